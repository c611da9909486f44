import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Frame, type InternalEvent, internalEventSchema } from '../events/schema.js';
import { repoRoot } from '../test-support/index.js';
import { computeGrouping, parseFingerprintRules } from './fingerprint.js';
import { normalizeEvent, normalizeFilename } from './normalize.js';
import { parameterize } from './parameterize.js';

const here = path.dirname(fileURLToPath(import.meta.url));

let seq = 0;
function event(over: Partial<InternalEvent> & Record<string, unknown>): InternalEvent {
  seq++;
  return internalEventSchema.parse({
    eventId: seq.toString(16).padStart(32, '0'),
    projectId: 1,
    timestamp: '2026-01-01T00:00:00Z',
    receivedAt: '2026-01-01T00:00:00Z',
    platform: 'node',
    source: 'envelope',
    ...over,
  });
}

const fp = (e: InternalEvent, rules: unknown = []) =>
  computeGrouping(normalizeEvent(e), parseFingerprintRules(rules));

/** A Node-style stack: runtime frames first, then the app's, innermost last. */
function nodeStack(root: string, opts: { line?: number; fn?: string; file?: string } = {}): Frame[] {
  const file = opts.file ?? 'src/users/service.js';
  return [
    {
      filename: 'node:internal/process/task_queues',
      function: 'processTicksAndRejections',
      lineno: 95,
      in_app: false,
    },
    {
      filename: `${root}/node_modules/express/lib/router/layer.js`,
      function: 'Layer.handle [as handle_request]',
      lineno: 95,
      in_app: false,
    },
    {
      filename: `${root}/src/routes/users.js`,
      function: 'getUserRoute',
      lineno: 12 + (opts.line ?? 0),
      in_app: true,
    },
    {
      filename: `${root}/${file}`,
      function: opts.fn ?? 'loadUser',
      lineno: 40 + (opts.line ?? 0),
      colno: 7,
      in_app: true,
    },
  ];
}

function exception(type: string, value: string, frames: Frame[]) {
  return { exceptions: [{ type, value, stacktrace: { frames } }] };
}

interface SentryPayload {
  platform?: string;
  release?: string;
  environment?: string;
  exception: SentryException[] | { values: SentryException[] };
}
interface SentryException {
  type?: string;
  value?: string;
  stacktrace?: { frames?: Frame[] };
}

/** The Sentry event payload of an envelope fixture, shaped as ingest's InternalEvent. */
function fromFixture(name: string): InternalEvent {
  const text = readFileSync(path.join(repoRoot, '../shared/fixtures/envelopes', name), 'utf8');
  const payload = text
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    })
    .find((o) => o && typeof o === 'object' && 'exception' in o) as SentryPayload;
  const ex = payload.exception;
  return event({
    platform: payload.platform ?? 'other',
    exceptions: (Array.isArray(ex) ? ex : ex.values).map((x) => ({
      type: x.type,
      value: x.value,
      stacktrace: x.stacktrace?.frames ? { frames: x.stacktrace.frames } : undefined,
    })),
    release: payload.release,
    environment: payload.environment,
  });
}

function mutateFrames(e: InternalEvent, fn: (f: Frame, i: number) => Frame): InternalEvent {
  return {
    ...e,
    exceptions: e.exceptions.map((x) => ({
      ...x,
      stacktrace: x.stacktrace ? { frames: x.stacktrace.frames.map(fn) } : undefined,
    })),
  };
}

describe('parameterize', () => {
  it.each([
    ['User 42 not found', 'User <int> not found'],
    ['Order #9831 failed after 3.5s', 'Order #<int> failed after <int>s'],
    ['no row for id 0b3f7c1e-8a4d-4c55-9f0e-2d1b6a7c9e01', 'no row for id <uuid>'],
    ['mail to jane.doe+x@example.co.uk bounced', 'mail to <email> bounced'],
    ['connect ECONNREFUSED 10.0.3.17:5432', 'connect ECONNREFUSED <ip>'],
    ['GET https://api.example.com/v1/users/42?x=1 returned 503', 'GET <url> returned <int>'],
    ['token expired at 2024-03-01T12:30:45.123Z', 'token expired at <timestamp>'],
    ['bad pointer 0x7ffd5e8c and hash 9f86d081884c7d65', 'bad pointer <hex> and hash <hex>'],
    ['utf8 and base64 decoding failed in ES2015 mode', 'utf8 and base64 decoding failed in ES2015 mode'],
    ['express@4.18.2 failed to load', 'express@<int> failed to load'],
    [
      'session expired Mon Nov 23 2026 09:03:07 GMT+0000 (Coordinated Universal Time)',
      'session expired <timestamp>',
    ],
    ['upstream fe80::1ff:fe23:4567:890a and 2001:db8:0:0:0:0:2:1 down', 'upstream <ip> and <ip> down'],
    ['step 1:2:3 failed for key a:b:c', 'step <int>:<int>:<int> failed for key a:b:c'],
  ])('%s → %s', (input, expected) => {
    expect(parameterize(input)).toBe(expected);
  });
});

describe('normalizeFilename', () => {
  it.each([
    ['/home/alice/work/shop/src/users/service.js', 'src/users/service.js'],
    ['/srv/releases/20240301120000/src/users/service.js', 'src/users/service.js'],
    ['C:\\deploy\\a1b2c3d4e5f6\\src\\users\\service.js', 'src/users/service.js'],
    ['https://cdn.example.com/static/js/main.3f2a9c1b.js?v=12#x', 'static/js/main.js'],
    ['http://localhost:3000/assets/index-BZy3k9aQ.js', 'assets/index.js'],
    ['https://app.example.com/assets/index-BmXkQzPa.js', 'assets/index.js'],
    ['https://app.example.com/assets/index-D-x_a1B2.js', 'assets/index.js'],
    ['/srv/app/src/user-settings.js', 'src/user-settings.js'],
    ['/srv/app/src/app.component.js', 'src/app.component.js'],
    [
      '/app/node_modules/.pnpm/express@4.18.2/node_modules/express/lib/router/index.js',
      'express/lib/router/index.js',
    ],
    ['/usr/lib/python3.11/site-packages/django/core/handlers/base.py', 'django/core/handlers/base.py'],
    ['https://code.jquery.com/jquery-3.6.0.min.js', 'jquery.min.js'],
    ['webpack-internal:///./src/App.tsx', 'src/App.tsx'],
    ['app:///dist/server.js', 'dist/server.js'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeFilename(input)).toBe(expected);
  });
});

describe('grouping: the same bug groups into one issue', () => {
  const base = event(
    exception('TypeError', "Cannot read properties of undefined (reading 'id')", nodeStack('/srv/app')),
  );

  it('ignores line and column numbers', () => {
    const moved = event(
      exception(
        'TypeError',
        "Cannot read properties of undefined (reading 'id')",
        nodeStack('/srv/app', { line: 17 }),
      ),
    );
    expect(fp(moved).fingerprint).toBe(fp(base).fingerprint);
  });

  it('ignores ids, numbers and addresses in the value when there is a stack', () => {
    const a = event(exception('NotFoundError', 'User 42 not found', nodeStack('/srv/app')));
    const b = event(
      exception('NotFoundError', 'User 97 not found (req 5f0e2d1b6a7c)', nodeStack('/srv/app')),
    );
    expect(fp(a).fingerprint).toBe(fp(b).fingerprint);
  });

  it('ignores absolute install paths, hosts and deploy hashes', () => {
    const other = event(
      exception(
        'TypeError',
        "Cannot read properties of undefined (reading 'id')",
        nodeStack('/home/deploy/releases/9f86d081884c/current', { line: 3 }),
      ),
    );
    expect(fp(other).fingerprint).toBe(fp(base).fingerprint);
    const browserA = event(
      exception('Error', 'x', [
        {
          filename: 'https://eu.cdn.example.com/static/js/main.1a2b3c4d.js',
          function: 'submit',
          lineno: 1,
          colno: 5000,
        },
      ]),
    );
    const browserB = event(
      exception('Error', 'x', [
        {
          filename: 'https://us.cdn.example.com/static/js/main.9e8d7c6b.js?v=2',
          function: 'submit',
          lineno: 1,
          colno: 5123,
        },
      ]),
    );
    expect(fp(browserA).fingerprint).toBe(fp(browserB).fingerprint);
  });

  it('groups value-only errors (no stack) by type and parameterised message', () => {
    const a = event({ exceptions: [{ type: 'QueryError', value: 'timeout after 3000 ms on 10.0.0.4' }] });
    const b = event({ exceptions: [{ type: 'QueryError', value: 'timeout after 5000 ms on 10.0.0.9' }] });
    expect(fp(a).fingerprint).toBe(fp(b).fingerprint);
    expect(fp(a).components).toEqual(['type:QueryError', 'value:timeout after <int> ms on <ip>']);
  });

  it('groups plain messages by their parameterised text, or by the template', () => {
    const a = event({ message: 'Payment 8812 declined for jane@example.com' });
    const b = event({ message: 'Payment 17 declined for bob@example.org' });
    expect(fp(a).fingerprint).toBe(fp(b).fingerprint);
    const t1 = event({ message: 'cart abc has 3 items', messageTemplate: 'cart %s has %d items' });
    const t2 = event({ message: 'cart xyz has 9 items', messageTemplate: 'cart %s has %d items' });
    expect(fp(t1).fingerprint).toBe(fp(t2).fingerprint);
  });

  it('collapses recursion depth and ignores library frames when app frames exist', () => {
    const rec = (n: number) =>
      event(
        exception('RangeError', 'Maximum call stack size exceeded', [
          { filename: '/srv/app/node_modules/lodash/lodash.js', function: 'baseClone', in_app: false },
          ...Array.from({ length: n }, () => ({
            filename: '/srv/app/src/tree.js',
            function: 'walk',
            lineno: 9,
          })),
        ]),
      );
    expect(fp(rec(3)).fingerprint).toBe(fp(rec(40)).fingerprint);
    expect(fp(rec(3)).components).toEqual(['type:RangeError', 'frame:src/tree.js:walk']);
  });

  it('uses the module when the SDK sends one (Python, Java, @sentry/node)', () => {
    const py = (root: string, line: number) =>
      event(
        exception('KeyError', "'sku'", [
          {
            module: 'shop.orders.views',
            filename: `${root}/shop/orders/views.py`,
            function: 'checkout',
            lineno: line,
            in_app: true,
          },
        ]),
      );
    expect(fp(py('/opt/app-1', 10)).fingerprint).toBe(fp(py('/var/www/app-2', 99)).fingerprint);
    const java = (lambda: string) =>
      event(
        exception('java.lang.IllegalStateException', 'x', [
          {
            module: `com.acme.Billing$$Lambda$${lambda}/0x0000000800c03000`,
            function: 'apply',
            in_app: true,
          },
        ]),
      );
    expect(fp(java('14')).fingerprint).toBe(fp(java('15')).fingerprint);
    // Classes the JVM generates per process (Spring, Hibernate and JDK proxies) group as one.
    const proxied = (suffix: string, proxy: string) =>
      fp(
        event(
          exception('java.lang.IllegalStateException', 'x', [
            { module: proxy, function: 'invoke', in_app: false },
            { module: `com.acme.UserService${suffix}`, function: 'find', in_app: true },
          ]),
        ),
      ).components;
    expect(proxied('$$EnhancerBySpringCGLIB$$5f3e2a1b', 'jdk.proxy2.$Proxy45')).toEqual(
      proxied('$$EnhancerBySpringCGLIB$$9c8d7e6f', 'jdk.proxy3.$Proxy112'),
    );
    expect(proxied('$$SpringCGLIB$$0', 'x')).toEqual(proxied('$$SpringCGLIB$$1', 'x'));
    expect(proxied('$HibernateProxy$aB3dE5', 'x')).toEqual(proxied('$HibernateProxy$Zx9Qw2', 'x'));
    expect(proxied('', 'x')).not.toEqual(proxied('$$SpringCGLIB$$0', 'x'));
  });

  it('groups real SDK envelopes despite different lines, paths and hosts', () => {
    for (const name of [
      'envelope_javascript.txt',
      'envelope_php_error.txt',
      'envelope_with_nextjs_ansi_escapes.txt',
    ]) {
      const original = fromFixture(name);
      const moved = mutateFrames(original, (f) => ({
        ...f,
        lineno: (f.lineno ?? 0) + 7,
        colno: (f.colno ?? 0) + 3,
        abs_path: f.abs_path?.replace(/^\/[^/]+\/[^/]+/, '/opt/other-host'),
        filename: f.filename?.replace(/^https?:\/\/[^/]+/, 'https://other.example.net'),
      }));
      const g = fp(original);
      expect(g.method, name).toBe('exception');
      expect(fp(moved).fingerprint, name).toBe(g.fingerprint);
      const retyped = {
        ...original,
        exceptions: original.exceptions.map((x) => ({ ...x, type: `${x.type}X` })),
      };
      expect(fp(retyped).fingerprint, name).not.toBe(g.fingerprint);
    }
  });
});

describe('grouping: different bugs make different issues', () => {
  it('splits on exception type', () => {
    const a = event(exception('TypeError', 'x', nodeStack('/srv/app')));
    const b = event(exception('RangeError', 'x', nodeStack('/srv/app')));
    expect(fp(a).fingerprint).not.toBe(fp(b).fingerprint);
  });

  it('splits on the in-app call path (function or file)', () => {
    const a = event(exception('TypeError', 'x', nodeStack('/srv/app')));
    const b = event(exception('TypeError', 'x', nodeStack('/srv/app', { fn: 'saveUser' })));
    const c = event(exception('TypeError', 'x', nodeStack('/srv/app', { file: 'src/orders/service.js' })));
    expect(new Set([fp(a).fingerprint, fp(b).fingerprint, fp(c).fingerprint]).size).toBe(3);
  });

  it('lets every chained exception contribute', () => {
    const frames = nodeStack('/srv/app');
    const a = event({
      exceptions: [
        { type: 'ECONNRESET', value: 'socket hang up', stacktrace: { frames } },
        { type: 'FetchError', value: 'request failed', stacktrace: { frames } },
      ],
    });
    const b = event({
      exceptions: [
        { type: 'ETIMEDOUT', value: 'timed out', stacktrace: { frames } },
        { type: 'FetchError', value: 'request failed', stacktrace: { frames } },
      ],
    });
    expect(fp(a).fingerprint).not.toBe(fp(b).fingerprint);
    expect(fp(a).components.filter((c) => c.startsWith('type:'))).toEqual([
      'type:ECONNRESET',
      'type:FetchError',
    ]);
  });

  it('splits messages whose fixed words differ', () => {
    expect(fp(event({ message: 'Payment 1 declined' })).fingerprint).not.toBe(
      fp(event({ message: 'Payment 1 refunded' })).fingerprint,
    );
    expect(fp(event({ message: 'user 5 not found' })).fingerprint).not.toBe(
      fp(event({ message: 'order 5 not found' })).fingerprint,
    );
    // A package and its version are not an email address: two packages stay two issues.
    expect(fp(event({ message: 'express@4.18.2 failed to load' })).fingerprint).not.toBe(
      fp(event({ message: 'koa@2.0.0 failed to load' })).fingerprint,
    );
  });
});

describe('grouping: custom fingerprints and project rules', () => {
  const stack = nodeStack('/srv/app');

  it('a fingerprint without {{ default }} replaces the default grouping', () => {
    const a = event({ ...exception('TypeError', 'x', stack), fingerprint: ['payments', 'stripe'] });
    const b = event({
      ...exception('RangeError', 'y', nodeStack('/srv/app', { fn: 'other' })),
      fingerprint: ['payments', 'stripe'],
    });
    expect(fp(a).fingerprint).toBe(fp(b).fingerprint);
    expect(fp(a).method).toBe('fingerprint');
    expect(fp(a).components).toEqual(['fingerprint:payments', 'fingerprint:stripe']);
  });

  it('{{ default }} alone is the default grouping; with extra values it splits the default group', () => {
    const plain = event(exception('TypeError', 'x', stack));
    const onlyDefault = event({ ...exception('TypeError', 'x', stack), fingerprint: ['{{ default }}'] });
    expect(fp(onlyDefault).fingerprint).toBe(fp(plain).fingerprint);
    const eu = event({ ...exception('TypeError', 'x', stack), fingerprint: ['{{default}}', 'eu'] });
    const us = event({ ...exception('TypeError', 'x', stack), fingerprint: ['{{ default }}', 'us'] });
    expect(fp(eu).fingerprint).not.toBe(fp(plain).fingerprint);
    expect(fp(eu).fingerprint).not.toBe(fp(us).fingerprint);
    expect(fp(eu).components).toEqual([...fp(plain).components, 'fingerprint:eu']);
    const eu2 = event({
      ...exception('TypeError', 'x', nodeStack('/other', { line: 5 })),
      fingerprint: ['{{ default }}', 'eu'],
    });
    expect(fp(eu2).fingerprint).toBe(fp(eu).fingerprint);
  });

  it('project rules match on type, message, module and tags', () => {
    const rules = [
      'error.type:DatabaseError message:"*connection*" -> database-down',
      'tags.region:eu-* -> {{ default }}, eu',
    ];
    const a = event(exception('DatabaseError', 'connection refused to 10.0.0.1', stack));
    const b = event(exception('DatabaseError', 'lost connection', nodeStack('/srv/app', { fn: 'x' })));
    expect(fp(a, rules).fingerprint).toBe(fp(b, rules).fingerprint);
    expect(fp(a, rules).method).toBe('rule');
    expect(fp(a, rules).rule).toBe('error.type:DatabaseError message:"*connection*" -> database-down');
    const tagged = event({ ...exception('TypeError', 'x', stack), tags: { region: 'eu-west-1' } });
    expect(fp(tagged, rules).components).toEqual([
      ...fp(event(exception('TypeError', 'x', stack))).components,
      'fingerprint:eu',
    ]);
    const objectRule = [{ matchers: { module: 'billing.*' }, fingerprint: ['billing'] }];
    const mod = event(exception('Error', 'x', [{ module: 'billing.invoice', function: 'f' }]));
    expect(fp(mod, objectRule).components).toEqual(['fingerprint:billing']);
    // The event's own fingerprint comes first.
    const own = event({ ...exception('DatabaseError', 'connection x', stack), fingerprint: ['mine'] });
    expect(fp(own, rules).components).toEqual(['fingerprint:mine']);
  });
});

describe('normalizeEvent', () => {
  it('derives title, culprit, user key and tags', () => {
    const n = normalizeEvent(
      event({
        ...exception('TypeError', 'bad thing\nsecond line', nodeStack('/srv/app')),
        release: 'shop@1.2.3',
        user: { id: '7', email: 'a@b.c' },
        tags: { region: 'eu' },
        contexts: { browser: { name: 'Chrome', version: '120' } },
      }),
    );
    expect(n.title).toBe('TypeError: bad thing');
    expect(n.culprit).toBe('src/users/service.js in loadUser');
    expect(n.userKey).toMatch(/^[0-9a-f]{32}$/);
    expect(n.tags).toMatchObject({
      region: 'eu',
      level: 'error',
      environment: 'production',
      release: 'shop@1.2.3',
      user: '7',
      browser: 'Chrome 120',
    });
  });
});

describe('grouping: the SDK that sent the event does not matter', () => {
  interface Captured {
    platform: string;
    exception: { values: Array<{ type: string; value: string; stacktrace: { frames: Frame[] } }> };
  }
  // Captured in Chromium from the same page built twice, once with @sentry/browser and once with
  // @beacon/sdk (SDK and app in one hashed bundle): a click handler and a setTimeout callback that
  // throw. @sentry/browser wraps listeners (a `sentryWrapped` frame in the stack) and marks every
  // frame in-app, `<anonymous>` ones included; @beacon/sdk does neither.
  const captured = JSON.parse(readFileSync(path.join(here, 'fixtures/browser-sdks.json'), 'utf8')) as Record<
    'sentry' | 'beacon',
    Captured[]
  >;
  const asEvent = (c: Captured) =>
    event({
      platform: c.platform,
      exceptions: c.exception.values.map((x) => ({
        type: x.type,
        value: x.value,
        stacktrace: x.stacktrace,
      })),
    });

  it('groups the same browser bug from @sentry/browser and @beacon/sdk into one issue', () => {
    for (const i of [0, 1]) {
      const s = fp(asEvent(captured.sentry[i]!));
      const b = fp(asEvent(captured.beacon[i]!));
      expect(s.components.some((c) => /sentryWrapped|anonymous/.test(c))).toBe(false);
      expect(s.components).toEqual(b.components);
    }
    // ...and the click and the timer are still two code paths.
    expect(fp(asEvent(captured.sentry[0]!)).fingerprint).not.toBe(
      fp(asEvent(captured.sentry[1]!)).fingerprint,
    );
  });

  const app = (fn: string): Frame => ({
    filename: 'http://localhost:5173/src/cart.ts?t=1700000000',
    function: fn,
    lineno: 3,
    in_app: true,
  });

  it('ignores SDK instrumentation and library frames even when the SDK calls them in-app', () => {
    // Unbundled (dev server): the SDK is served from node_modules; @sentry/browser says in_app.
    const viaSentry = event(
      exception('TypeError', 'x', [
        {
          filename: 'http://localhost:5173/node_modules/.vite/deps/@sentry_browser.js?v=9a1b2c3d',
          function: 'HTMLButtonElement.sentryWrapped',
          in_app: true,
        },
        {
          filename: 'http://localhost:5173/node_modules/.vite/deps/react-dom.js?v=9a1b2c3d',
          function: 'callCallback',
          in_app: true,
        },
        app('onClick'),
        app('applyCoupon'),
      ]),
    );
    const viaBeacon = event(exception('TypeError', 'x', [app('onClick'), app('applyCoupon')]));
    expect(fp(viaSentry).components).toEqual(fp(viaBeacon).components);
  });

  it('drops SDK, runtime and bundler frames when no frame is in-app', () => {
    const lib = (extra: Frame[]) =>
      event(
        exception('Error', 'socket hang up', [
          ...extra,
          { filename: '/srv/app/node_modules/pg/lib/client.js', function: 'Client.query', in_app: false },
        ]),
      );
    const plain = lib([]);
    const noisy = lib([
      { filename: 'node:internal/process/task_queues', function: 'processTicksAndRejections', in_app: false },
      {
        filename: '/srv/app/node_modules/@sentry/node/build/cjs/integrations/http.js',
        function: 'wrapped',
        in_app: false,
      },
      {
        filename: '/srv/app/node_modules/@beacon/sdk/dist/esm/express.js',
        function: 'beaconRequestHandler',
        in_app: false,
      },
      { filename: 'webpack:///webpack/bootstrap', function: '__webpack_require__', in_app: false },
      {
        filename: 'https://cdn.example.com/static/js/runtime-main.5e8b1c2a.js',
        function: 'o',
        in_app: false,
      },
    ]);
    expect(fp(noisy).components).toEqual(fp(plain).components);
    expect(fp(plain).components).toEqual(['type:Error', 'frame:pg/lib/client.js:Client.query']);
  });

  it("drops JavaScript eval frames but keeps other languages' functions named eval", () => {
    const withEval = (f: Frame) =>
      fp(
        event(
          exception('Error', 'x', [f, { filename: '/srv/app/src/calc.py', function: 'run', in_app: true }]),
        ),
      );
    const without = fp(
      event(exception('Error', 'x', [{ filename: '/srv/app/src/calc.py', function: 'run', in_app: true }])),
    );
    expect(withEval({ filename: '', function: 'eval', in_app: false }).components).toEqual(
      without.components,
    );
    expect(
      withEval({ filename: 'https://x.example/app.js', function: 'eval', in_app: true }).components,
    ).toEqual(without.components);
    expect(
      withEval({ filename: '/srv/app/src/engine.py', function: 'eval', in_app: true }).components,
    ).toContain('frame:src/engine.py:eval');
  });

  it('normalises Windows paths, webpack:// and app:/// URLs and versioned packages alike', () => {
    const frame = (filename: string): InternalEvent =>
      event(exception('Error', 'x', [{ filename, function: 'save', in_app: true }]));
    const keys = [
      'C:\\Users\\ci\\build\\src\\store\\save.ts',
      'webpack://shop/./src/store/save.ts',
      'app:///src/store/save.ts',
      '/home/deploy/releases/20261123090000/src/store/save.ts',
    ].map((f) => fp(frame(f)).components.join('|'));
    expect(new Set(keys).size).toBe(1);
  });
});

describe('grouping: frames without an in_app flag', () => {
  it('are library frames when the SDK flagged others (Android: only the app package is in-app)', () => {
    const e = fromFixture('application_x_sentry_envelope-1706290053204.txt');
    expect(fp(e).components).toEqual([
      'type:RuntimeException',
      'frame:io.sentry.samples.android.MainActivity$$ExternalSyntheticLambda:onClick',
      'frame:io.sentry.samples.android.MainActivity:lambda$onCreate',
    ]);
    expect(normalizeEvent(e).culprit).toBe('io.sentry.samples.android.MainActivity in lambda$onCreate$0');
  });
});
