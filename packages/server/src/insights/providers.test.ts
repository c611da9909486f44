import { afterEach, describe, expect, it } from 'vitest';
import { parseAnswer } from './answer.js';
import { OllamaProvider, OpenAiProvider, ProviderError } from './providers.js';
import { REDACTED, scrub, scrubText } from './scrub.js';
import { type FakeLlm, goodAnswer, startFakeLlm } from './test-provider-server.js';

const messages = [
  { role: 'system' as const, content: 'sys' },
  { role: 'user' as const, content: 'hello' },
];

describe('insight providers against local servers speaking their APIs', () => {
  let fake: FakeLlm;
  afterEach(async () => fake?.close());

  it('Ollama: posts /api/chat with stream off and JSON format, returns message.content', async () => {
    fake = await startFakeLlm(() => ({ kind: 'answer', content: goodAnswer }));
    const p = new OllamaProvider(fake.url, 'llama3.2:3b');
    expect(await p.chat(messages)).toBe(goodAnswer);
    expect(fake.requests[0]!.path).toBe('/api/chat');
    expect(fake.requests[0]!.body).toMatchObject({
      model: 'llama3.2:3b',
      stream: false,
      format: 'json',
      messages,
    });
  });

  it('OpenAI-compatible: posts {base}/chat/completions with the bearer key, returns choices[0].message.content', async () => {
    fake = await startFakeLlm(() => ({ kind: 'answer', content: goodAnswer }));
    const p = new OpenAiProvider(`${fake.url}/v1`, 'gpt-test', 'sk-test-key-123');
    expect(await p.chat(messages)).toBe(goodAnswer);
    expect(fake.requests[0]!.path).toBe('/v1/chat/completions');
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer sk-test-key-123');
    expect(fake.requests[0]!.body).toMatchObject({ model: 'gpt-test', stream: false, messages });
  });

  it('a slow provider times out with a retryable error', async () => {
    fake = await startFakeLlm(() => ({ kind: 'slow', ms: 5_000, content: goodAnswer }));
    const err = await new OllamaProvider(fake.url, 'm').chat(messages, { timeoutMs: 300 }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/timed out after 300 ms/);
  });

  it('5xx is retryable, 4xx is not, a non-JSON body or a missing content is an error', async () => {
    fake = await startFakeLlm((n) =>
      n === 1
        ? { kind: 'status', status: 503 }
        : n === 2
          ? { kind: 'status', status: 400, body: '{"error":"bad model"}' }
          : n === 3
            ? { kind: 'raw', body: '<html>oops' }
            : { kind: 'raw', body: '{"choices":[]}' },
    );
    const p = new OpenAiProvider(fake.url, 'm');
    const e1 = await p.chat(messages).catch((e) => e);
    expect([e1.retryable, e1.message]).toEqual([true, expect.stringMatching(/HTTP 503/)]);
    const e2 = await p.chat(messages).catch((e) => e);
    expect([e2.retryable, e2.message]).toEqual([false, expect.stringMatching(/HTTP 400/)]);
    const e3 = await p.chat(messages).catch((e) => e);
    expect(e3.message).toBe('provider answer is not JSON');
    const e4 = await p.chat(messages).catch((e) => e);
    expect(e4.message).toMatch(/no choices\[0\]\.message\.content/);
  });
});

describe('parsing the structured answer', () => {
  it('accepts bare JSON, fenced JSON, JSON in prose and snake_case keys; rejects the rest', () => {
    const expected = {
      probableCause: 'cart.items is undefined when the session expired',
      whereToLook: 'src/cart.ts checkout()',
      suggestedFix: 'Guard against a missing cart and redirect to sign-in',
      confidence: 'medium',
    };
    expect(parseAnswer(goodAnswer)).toEqual(expected);
    expect(parseAnswer(`Here you go:\n\`\`\`json\n${goodAnswer}\n\`\`\``)).toEqual(expected);
    expect(parseAnswer(`Sure! ${goodAnswer} Hope it helps.`)).toEqual(expected);
    expect(
      parseAnswer(
        JSON.stringify({ probable_cause: 'a', where_to_look: 'b', suggested_fix: 'c', confidence: 0.9 }),
      ),
    ).toEqual({ probableCause: 'a', whereToLook: 'b', suggestedFix: 'c', confidence: 'high' });
    expect(parseAnswer('I think the cart is empty.')).toBeUndefined();
    expect(parseAnswer('{"probableCause":"only one key"}')).toBeUndefined();
  });
});

describe('scrubbing', () => {
  it('blanks sensitive keys and secrets inside text, URLs and header lists', () => {
    const out = scrub({
      headers: { Authorization: 'Bearer abc.def.ghi', Cookie: 'sid=s3cr3t', Accept: 'text/html' },
      url: 'https://api.example.com/cb?code=42&token=tok_live_9f8e7d&page=2',
      data: { password: 'hunter2', user: 'ann' },
      list: [
        ['X-Api-Key', 'key-123'],
        ['User-Agent', 'curl'],
      ],
      message:
        'login failed for ann with password=hunter2 using Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_abcdefg',
      dsn: 'postgres://app:dbpass@db:5432/x',
    });
    expect(out.headers).toEqual({ Authorization: REDACTED, Cookie: REDACTED, Accept: 'text/html' });
    expect(out.url).toBe(`https://api.example.com/cb?code=${REDACTED}&token=${REDACTED}&page=2`);
    expect(out.data).toEqual({ password: REDACTED, user: 'ann' });
    expect(out.list).toEqual([
      ['X-Api-Key', REDACTED],
      ['User-Agent', 'curl'],
    ]);
    expect(out.message).not.toMatch(/hunter2|eyJhbGci/);
    expect(out.dsn).toBe(`postgres://${REDACTED}@db:5432/x`);
    expect(scrubText('no secrets here: 42 items')).toBe('no secrets here: 42 items');
  });

  it('catches secrets under compound and camelCase keys, in JSON inside text, and in whole cookie headers', () => {
    const out = scrub({
      extra: {
        db_password: 'S1',
        accessToken: 'S2',
        'x-csrf-token': 'S3',
        clientSecret: 'S4',
        author: 'ann',
      },
      contexts: { app: { sessionId: 'S5', apiKey: 'S6' } },
      crumbs: [{ data: { refreshToken: 'S7', private_key: 'S8', count: 3 } }],
    });
    expect(JSON.stringify(out)).not.toMatch(/S[1-8]/);
    expect(out.extra.author).toBe('ann');
    expect(out.crumbs[0]!.data.count).toBe(3);
    const texts = [
      'request failed: {"password":"T1","user":"ann"}',
      "config {'client_secret': 'T2'}",
      'DB_PASSWORD=T3 and AWS_SECRET_ACCESS_KEY=T4',
      'Cookie: theme=dark; sessionid=T5; csrftoken=T6',
      'x-auth-token: T7',
      'apiToken=T8',
    ];
    for (const t of texts) expect(scrubText(t), t).not.toMatch(/T[1-8]/);
    expect(scrubText('author: ann; tokens used: 42')).toBe('author: ann; tokens used: 42');
  });
});
