/** Aligned tables for people, JSON for scripts. */
export type Column<T> = { header: string; get: (row: T) => unknown };

/**
 * Whitespace runs become one space; other control characters (ESC, BEL, C1 — terminal escape
 * sequences) become `?`. Cells carry server data that started as untrusted event content (issue
 * titles, messages): printed raw, they could retitle, clear or rewrite the user's terminal.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return printable(v.join(','));
  if (typeof v === 'object') return printable(JSON.stringify(v));
  return printable(String(v));
}

export function table<T>(rows: T[], columns: Column<T>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map((c) => cell(c.get(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Key/value listing for one object. */
export function record(obj: Record<string, unknown>, keys?: string[]): string {
  const ks = keys ?? Object.keys(obj);
  const w = Math.max(...ks.map((k) => k.length));
  return ks.map((k) => `${`${printable(k)}:`.padEnd(w + 1)}  ${cell(obj[k])}`).join('\n');
}
