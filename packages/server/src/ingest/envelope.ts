import { AppError } from '../platform/errors.js';

/**
 * Sentry envelope framing (https://develop.sentry.dev/sdk/envelopes/):
 *
 *   Envelope = Headers { "\n" Item } [ "\n" ]
 *   Item     = Headers "\n" Payload
 *
 * Each header is one line of JSON. An item header with `length` is followed by exactly that many
 * bytes (binary allowed) and then a newline or the end; without `length` the payload runs to the
 * next newline or the end. Pure: no I/O, so it is tested against every captured fixture.
 */
export interface EnvelopeItem {
  headers: Record<string, unknown> & { type: string };
  payload: Buffer;
  /**
   * The last item declared a `length` beyond the end of the body. Binary items mangled in transit
   * (seen in real captures) are kept this way so the caller can drop them and still accept the
   * envelope; JSON items that are truncated are refused by `itemJson`.
   */
  truncated?: { declared: number; available: number };
}

export interface Envelope {
  headers: Record<string, unknown>;
  items: EnvelopeItem[];
}

export interface EnvelopeLimits {
  maxItems: number;
}

const NL = 0x0a;

function parseHeader(buf: Buffer, start: number, end: number, what: string): Record<string, unknown> {
  const text = buf.toString('utf8', start, end);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('bad_request', `invalid envelope: ${what} is not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AppError('bad_request', `invalid envelope: ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Index of the next newline at or after `from`, or `buf.length`. */
function lineEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf(NL, from);
  return i === -1 ? buf.length : i;
}

/** True when only whitespace remains from `from` on (trailing newlines are allowed). */
function onlyWhitespace(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (c !== NL && c !== 0x0d && c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

export function parseEnvelope(buf: Buffer, limits: EnvelopeLimits): Envelope {
  if (onlyWhitespace(buf, 0)) throw new AppError('bad_request', 'invalid envelope: empty body');
  let pos = 0;
  const headEnd = lineEnd(buf, pos);
  const headers = parseHeader(buf, pos, headEnd, 'envelope header');
  pos = headEnd + 1;
  const items: EnvelopeItem[] = [];
  while (pos < buf.length) {
    if (onlyWhitespace(buf, pos)) break;
    const n = items.length + 1;
    if (n > limits.maxItems)
      throw new AppError('bad_request', `invalid envelope: more than ${limits.maxItems} items`);
    const hEnd = lineEnd(buf, pos);
    const h = parseHeader(buf, pos, hEnd, `item ${n} header`);
    if (typeof h.type !== 'string' || h.type === '')
      throw new AppError('bad_request', `invalid envelope: item ${n} header has no type`);
    pos = hEnd + 1;
    let payload: Buffer;
    if (h.length !== undefined && h.length !== null) {
      const len = h.length;
      if (typeof len !== 'number' || !Number.isInteger(len) || len < 0)
        throw new AppError('bad_request', `invalid envelope: item ${n} has an invalid length`);
      if (hEnd >= buf.length || pos + len > buf.length) {
        const available = Math.max(0, buf.length - pos);
        items.push({
          headers: h as EnvelopeItem['headers'],
          payload: buf.subarray(Math.min(pos, buf.length)),
          truncated: { declared: len, available },
        });
        break;
      }
      payload = buf.subarray(pos, pos + len);
      pos += len;
      if (pos < buf.length) {
        // Tolerate CRLF after a payload; anything else means the length was wrong.
        if (buf[pos] === 0x0d && buf[pos + 1] === NL) pos += 1;
        if (buf[pos] !== NL)
          throw new AppError('bad_request', `invalid envelope: item ${n} payload does not end at its length`);
        pos += 1;
      }
    } else {
      const pEnd = hEnd >= buf.length ? buf.length : lineEnd(buf, pos);
      payload = buf.subarray(Math.min(pos, buf.length), pEnd);
      pos = pEnd + 1;
    }
    items.push({ headers: h as EnvelopeItem['headers'], payload });
  }
  return { headers, items };
}

/** Parse an item payload as a JSON object (event, transaction, session…), with the reason on failure. */
export function itemJson(item: EnvelopeItem, index: number): Record<string, unknown> {
  if (item.truncated)
    throw new AppError(
      'bad_request',
      `invalid envelope: item ${index + 1} (${item.headers.type}) is truncated (length ${item.truncated.declared}, ${item.truncated.available} bytes left)`,
    );
  let value: unknown;
  try {
    value = JSON.parse(item.payload.toString('utf8'));
  } catch {
    throw new AppError(
      'bad_request',
      `invalid envelope: item ${index + 1} (${item.headers.type}) is not valid JSON`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AppError(
      'bad_request',
      `invalid envelope: item ${index + 1} (${item.headers.type}) is not a JSON object`,
    );
  return value as Record<string, unknown>;
}
