import { describe, expect, it } from 'vitest';
import { moduleFromFilename } from '../src/node.js';
import { exceptionChain, isInApp, parseStack } from '../src/stack.js';

// Real `error.stack` strings. V8 ones were produced by Node 20 / Chromium; the SpiderMonkey
// (Firefox) and JavaScriptCore (Safari) ones are verbatim browser output in those engines' formats.
const V8_NODE_ESM =
  'TypeError: boom\n    at eval (eval at <anonymous> (file:///tmp/stk/app.mjs:3:67), <anonymous>:1:7)\n    at file:///tmp/stk/app.mjs:3:67\n    at /tmp/stk/node_modules/lib/index.js:1:37\n    at Array.map (<anonymous>)\n    at exports.run (/tmp/stk/node_modules/lib/index.js:1:27)\n    at Service.go (file:///tmp/stk/app.mjs:3:57)\n    at new Service (file:///tmp/stk/app.mjs:3:38)\n    at main (file:///tmp/stk/app.mjs:4:37)';
const V8_NODE_ASYNC =
  'Error: db down\n    at query (/srv/app/src/db.js:10:9)\n    at async Promise.all (index 0)\n    at async handler (/srv/app/src/routes.js:22:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)';
const V8_CHROME =
  'ReferenceError: user@example.com is not defined\n    at onClick (http://localhost:5173/src/App.tsx?t=17:12:5)\n    at HTMLButtonElement.<anonymous> (http://localhost:5173/node_modules/.vite/deps/react-dom.js?v=1:3750:14)\n    at Object.callback [as cb] (https://cdn.example.com/app.min.js:1:4521)';
const SPIDERMONKEY =
  'onClick@http://localhost:5000/app.js:13:15\nfoo/<@http://localhost:5000/app.js:9:21\n@http://localhost:5000/test:24:7\n';
const SPIDERMONKEY_EVAL =
  'baz@http://localhost:8080/file.js line 26 > eval line 2 > eval:1:30\nfoo@http://localhost:8080/file.js line 26 > eval:2:96\n@http://localhost:8080/file.js line 26 > eval:4:18\nspeak@http://localhost:8080/file.js:26:17\n@http://localhost:8080/file.js:33:9';
const JSC =
  'http://path/to/file.js:47:22\nfoo@http://path/to/file.js:52:15\nbar@http://path/to/file.js:108:168\n';
const JSC_NATIVE =
  'eval code\neval@[native code]\nspeak@http://localhost:8080/file.js:26:21\nglobal code@http://localhost:8080/file.js:33:18';

const short = (frames: ReturnType<typeof parseStack>) =>
  frames.map((f) => [f.function, f.filename, f.lineno, f.colno, f.in_app]);

describe('stack parsing', () => {
  it('parses V8 (Node ESM) frames oldest first, with eval, constructors, anonymous and dependency frames', () => {
    expect(short(parseStack(V8_NODE_ESM))).toEqual([
      ['main', '/tmp/stk/app.mjs', 4, 37, true],
      ['new Service', '/tmp/stk/app.mjs', 3, 38, true],
      ['Service.go', '/tmp/stk/app.mjs', 3, 57, true],
      ['exports.run', '/tmp/stk/node_modules/lib/index.js', 1, 27, false],
      ['Array.map', '<anonymous>', undefined, undefined, false],
      ['?', '/tmp/stk/node_modules/lib/index.js', 1, 37, false],
      ['?', '/tmp/stk/app.mjs', 3, 67, true],
      ['eval', '/tmp/stk/app.mjs', 3, 67, true],
    ]);
  });

  it('parses V8 async frames and marks node: internals as not in-app', () => {
    expect(short(parseStack(V8_NODE_ASYNC))).toEqual([
      ['process.processTicksAndRejections', 'node:internal/process/task_queues', 95, 5, false],
      ['handler', '/srv/app/src/routes.js', 22, 5, true],
      ['Promise.all', 'index 0', undefined, undefined, false],
      ['query', '/srv/app/src/db.js', 10, 9, true],
    ]);
  });

  it('parses Chrome frames with query strings and aliases, ignoring an "@" in the message', () => {
    expect(short(parseStack(V8_CHROME))).toEqual([
      ['Object.callback [as cb]', 'https://cdn.example.com/app.min.js', 1, 4521, true],
      [
        'HTMLButtonElement.<anonymous>',
        'http://localhost:5173/node_modules/.vite/deps/react-dom.js?v=1',
        3750,
        14,
        false,
      ],
      ['onClick', 'http://localhost:5173/src/App.tsx?t=17', 12, 5, true],
    ]);
  });

  it('parses SpiderMonkey frames, including anonymous and nested-function names', () => {
    expect(short(parseStack(SPIDERMONKEY))).toEqual([
      ['?', 'http://localhost:5000/test', 24, 7, true],
      ['foo/<', 'http://localhost:5000/app.js', 9, 21, true],
      ['onClick', 'http://localhost:5000/app.js', 13, 15, true],
    ]);
  });

  it('maps SpiderMonkey eval frames to the line that called eval', () => {
    expect(short(parseStack(SPIDERMONKEY_EVAL))).toEqual([
      ['?', 'http://localhost:8080/file.js', 33, 9, true],
      ['speak', 'http://localhost:8080/file.js', 26, 17, true],
      ['eval', 'http://localhost:8080/file.js', 26, undefined, true],
      ['foo', 'http://localhost:8080/file.js', 26, undefined, true],
      ['baz', 'http://localhost:8080/file.js', 26, undefined, true],
    ]);
  });

  it('parses JavaScriptCore frames, including anonymous ones without "@" and native code', () => {
    expect(short(parseStack(JSC))).toEqual([
      ['bar', 'http://path/to/file.js', 108, 168, true],
      ['foo', 'http://path/to/file.js', 52, 15, true],
      ['?', 'http://path/to/file.js', 47, 22, true],
    ]);
    expect(short(parseStack(JSC_NATIVE))).toEqual([
      ['global code', 'http://localhost:8080/file.js', 33, 18, true],
      ['speak', 'http://localhost:8080/file.js', 26, 21, true],
      ['eval', '[native code]', undefined, undefined, false],
    ]);
  });

  it('parses a live stack from this engine: the throwing function is the last frame', () => {
    function thrower(): Error {
      return new Error('live');
    }
    const frames = parseStack(thrower().stack);
    expect(frames.at(-1)).toMatchObject({ function: 'thrower', lineno: expect.any(Number), in_app: true });
    expect(frames.at(-1)!.filename).toMatch(/stack\.test\.ts$/);
    expect(frames.some((f) => f.in_app === false)).toBe(true);
  });

  it('returns no frames for garbage and tolerates non-strings', () => {
    expect(parseStack('just a message\nno frames here')).toEqual([]);
    expect(parseStack(undefined)).toEqual([]);
    expect(parseStack(42 as unknown as string)).toEqual([]);
  });

  it('decides in_app by path: node_modules, node: internals and native code are not the app', () => {
    expect(isInApp('/srv/app/src/a.js')).toBe(true);
    expect(isInApp('C:\\app\\node_modules\\x\\a.js')).toBe(false);
    expect(isInApp('node:internal/timers')).toBe(false);
    expect(isInApp('internal/process/task_queues.js')).toBe(false);
    expect(isInApp('[native code]')).toBe(false);
    expect(isInApp(undefined)).toBe(false);
  });

  it('names Node modules Sentry-style from the app root or node_modules', () => {
    expect(moduleFromFilename('/srv/app/src/jobs/sync.js', '/srv/app')).toBe('src.jobs:sync');
    expect(moduleFromFilename('/srv/app/node_modules/@scope/pkg/lib/x.cjs', '/srv/app')).toBe(
      '@scope.pkg.lib:x',
    );
    expect(moduleFromFilename('/srv/app/main.ts', '/srv/app')).toBe('main');
    expect(moduleFromFilename('node:internal/timers', '/srv/app')).toBeUndefined();
  });
});

describe('exception chains', () => {
  it('turns `cause` chains into chained values, outermost last, linked by mechanism ids', () => {
    const root = new RangeError('socket closed');
    const mid = new Error('query failed', { cause: root });
    const top = new TypeError('request failed', { cause: mid });
    const values = exceptionChain(top, { type: 'generic', handled: true });
    expect(values.map((v) => [v.type, v.value])).toEqual([
      ['RangeError', 'socket closed'],
      ['Error', 'query failed'],
      ['TypeError', 'request failed'],
    ]);
    expect(values.map((v) => v.mechanism)).toEqual([
      { type: 'chained', source: 'cause', handled: true, exception_id: 2, parent_id: 1 },
      { type: 'chained', source: 'cause', handled: true, exception_id: 1, parent_id: 0 },
      { type: 'generic', handled: true, exception_id: 0 },
    ]);
    expect(values.every((v) => (v.stacktrace?.frames.length ?? 0) > 0)).toBe(true);
  });

  it('stops at cycles and the depth limit, and describes non-Error causes and throws', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(exceptionChain(b, { type: 'generic' })).toHaveLength(2);
    let deep: Error = new Error('0');
    for (let i = 1; i < 10; i++) deep = new Error(String(i), { cause: deep });
    expect(exceptionChain(deep, { type: 'generic' })).toHaveLength(5);
    const withString = exceptionChain(new Error('outer', { cause: 'plain reason' }), { type: 'generic' });
    expect(withString[0]).toMatchObject({ type: 'Error', value: 'plain reason' });
    expect(exceptionChain({ code: 1, detail: 'x' }, { type: 'generic' })[0]!.value).toBe(
      'Non-Error exception captured with keys: code, detail',
    );
  });

  it('uses a custom error class name', () => {
    class PaymentError extends Error {}
    expect(exceptionChain(new PaymentError('declined'), { type: 'generic' })[0]!.type).toBe('PaymentError');
  });
});
