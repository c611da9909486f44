/**
 * Message parameterisation: the variable parts of an error message (ids, numbers, addresses,
 * times) become placeholders so "User 42 not found" and "User 97 not found" group together.
 * Order matters: the specific shapes (URLs, emails, UUIDs, timestamps, IPs) are replaced before
 * the generic ones (hex, numbers) would eat their pieces.
 */
const replacements: Array<[RegExp, string]> = [
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)\]}]+/gi, '<url>'],
  // The domain ends in a name (`express@4.18.2` is a package version, not an address).
  [/\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z][a-z-]*[a-z]\b/gi, '<email>'],
  [/\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g, '<timestamp>'],
  [
    /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{4} \d{2}:\d{2}:\d{2}(?: (?:GMT|UTC|[+-]\d{4}))?/g,
    '<timestamp>',
  ],
  // JavaScript's Date#toString: `Mon Nov 23 2026 09:03:07 GMT+0000 (Coordinated Universal Time)`.
  [
    /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2} \d{4}(?: \d{2}:\d{2}:\d{2}(?: GMT[+-]\d{4})?(?: \([^)]{1,64}\))?)?/g,
    '<timestamp>',
  ],
  [/\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, '<time>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, '<ip>'],
  // IPv6: eight groups, or fewer around one `::` (so `a:b:c` or `1:2:3` stay text).
  [
    /(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?|::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}))(?![\w:])/gi,
    '<ip>',
  ],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // Long hex-ish tokens (hashes, object ids, request ids) that contain at least one digit.
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  // Numbers not glued to a preceding letter (keeps "utf8", "base64", "ES2015", "h1").
  [/(?<![A-Za-z\d<])[-+]?\d+(?:[.,]\d+)*(?![\d>])/g, '<int>'],
];

export function parameterize(message: string): string {
  let out = message.length > 4096 ? message.slice(0, 4096) : message;
  for (const [re, token] of replacements) out = out.replace(re, token);
  return out.trim();
}
