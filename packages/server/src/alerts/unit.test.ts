import { describe, expect, it } from 'vitest';
import { median, scoreWindow } from './anomaly.js';
import { emailMessage, parseRetryAfter, signBody, slackMessage } from './channels.js';
import { backoffMs, defaultDeliveryOptions } from './delivery.js';
import { eventsAtOrAbove, matchedEvents } from './engine.js';
import { filtersSchema } from './schemas.js';
import { addressDenied, buildBlockList, defaultTargetPolicy } from './targets.js';
import { issueUpdate } from './testing.js';

describe('alerts building blocks', () => {
  it('backs off exponentially with equal jitter, first retry within a few seconds, capped', () => {
    const o = defaultDeliveryOptions;
    expect(backoffMs(1, o, () => 0)).toBe(1000);
    expect(backoffMs(1, o, () => 1)).toBe(2000);
    expect(backoffMs(3, o, () => 1)).toBe(8000);
    expect(backoffMs(30, o, () => 1)).toBe(o.retryMaxMs);
    expect(backoffMs(30, o, () => 0)).toBe(o.retryMaxMs / 2);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('signs the raw body with HMAC-SHA256', () => {
    // echo -n '{"a":1}' | openssl dgst -sha256 -hmac key
    expect(signBody('key', '{"a":1}')).toBe(
      'sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342',
    );
    expect(signBody('key', '{"a":1}')).not.toBe(signBody('key2', '{"a":1}'));
  });

  it('renders Slack blocks and escaped HTML email', () => {
    const p = {
      kind: 'alert' as const,
      title: 'A <b>',
      lines: ['x & y'],
      url: 'http://b.test/i/1',
      data: {},
    };
    const slack = slackMessage(p) as { text: string; blocks: Array<{ text?: { text: string } }> };
    expect(slack.text).toBe('A <b>');
    expect(slack.blocks[0]!.text!.text).toBe('*<http://b.test/i/1|A &lt;b&gt;>*');
    const mail = emailMessage(p);
    expect(mail.subject).toBe('[Beacon] A <b>');
    expect(mail.text).toContain('x & y');
    expect(mail.html).toContain('A &lt;b&gt;');
    expect(mail.html).toContain('x &amp; y');
  });

  it('scores windows robustly', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    const s = { zThreshold: 6, minCount: 10, minRatio: 2, minHistoryWindows: 6 };
    const flat = [20, 20, 20, 20, 20, 20];
    expect(scoreWindow(25, flat, s).anomalous).toBe(false); // √20 floor: z ≈ 1.1
    expect(scoreWindow(100, flat, s).anomalous).toBe(true);
    expect(scoreWindow(100, flat.slice(0, 5), s).anomalous).toBe(false); // not enough history
    expect(scoreWindow(9, [0, 0, 0, 0, 0, 0], s).anomalous).toBe(false); // under the floor
    expect(scoreWindow(100, [20, 20, 20, 500, 20, 20], s).median).toBe(20); // a past spike does not move the median
  });

  it('matches filters against the batch', () => {
    const f = (x: unknown) => filtersSchema.parse(x);
    const u = issueUpdate(1, 1, {
      levels: { warning: 4, error: 2, fatal: 1 },
      newEvents: 7,
      environment: 'prod',
    });
    expect(matchedEvents(u, f({}))).toBe(7);
    expect(matchedEvents(u, f({ level: 'error' }))).toBe(3);
    expect(matchedEvents(u, f({ environment: 'prod', level: 'fatal' }))).toBe(1);
    expect(matchedEvents(u, f({ environment: ['staging'] }))).toBe(0);
    expect(eventsAtOrAbove(u, 'warning')).toBe(7);
  });

  it('denies link-local and metadata addresses, allows loopback and private by default', () => {
    const l = buildBlockList(defaultTargetPolicy);
    for (const a of [
      '169.254.169.254',
      '::ffff:169.254.169.254',
      'fd00:ec2::254',
      'fe80::1',
      '100.100.100.200',
      // IPv4 metadata address carried in IPv6: mapped, compatible, NAT64 (dotted and hex forms).
      '::ffff:a9fe:a9fe',
      '::169.254.169.254',
      '::a9fe:a9fe',
      '64:ff9b::169.254.169.254',
      '64:ff9b::a9fe:a9fe',
      '::',
    ])
      expect(addressDenied(l, a), a).toBe(true);
    expect(addressDenied(l, '64:ff9b::808:808')).toBe(false);
    expect(addressDenied(l, '2001:db8::a9fe:a9fe')).toBe(false);
    for (const a of ['127.0.0.1', '::1', '10.0.0.5', '192.168.1.1', '8.8.8.8'])
      expect(addressDenied(l, a), a).toBe(false);
    const strict = buildBlockList({ ...defaultTargetPolicy, allowLoopback: false, allowPrivate: false });
    for (const a of ['127.0.0.1', '::1', '10.0.0.5', '192.168.1.1', 'fd12::1', '64:ff9b::10.0.0.5'])
      expect(addressDenied(strict, a), a).toBe(true);
  });
});
