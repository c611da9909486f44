import { describe, expect, it } from 'vitest';
import { record, table } from '../src/output.js';

describe('output', () => {
  it('never passes control characters from server data (event titles) to the terminal', () => {
    const title = 'TypeError: x\u001b]0;pwned\u0007\u001b[2J\u009b31m\r\nnext';
    const t = table([{ title }], [{ header: 'title', get: (r) => r.title }]);
    const r = record({ title, 'k\u001bey': 'v' });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
    for (const out of [t, r]) expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(t).toBe('TITLE\nTypeError: x?]0;pwned??[2J?31m next');
  });
});
