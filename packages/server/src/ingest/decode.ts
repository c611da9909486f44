import zlib from 'node:zlib';
import { AppError } from '../platform/errors.js';

/**
 * Request bodies: Content-Encoding (gzip, deflate, br) and the legacy store endpoint's base64 /
 * zlib form. Decompression is streamed through zlib on the thread pool and aborted as soon as the
 * output passes `maxBytes`, so a decompression bomb costs at most `maxBytes` of memory and a
 * fraction of a second, and the answer is 413.
 */
const tooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', `body decompresses to more than ${maxBytes} bytes`);

/**
 * At most this many decompressions run at once (zlib works on the 4-thread libuv pool anyway), so
 * many concurrent bombs hold at most MAX_CONCURRENT × maxBytes of output in memory; the others wait.
 */
const MAX_CONCURRENT = 4;
let running = 0;
const waiting: Array<() => void> = [];

async function run(
  kind: 'gzip' | 'deflate' | 'br' | 'inflate',
  input: Buffer,
  maxBytes: number,
): Promise<Buffer> {
  // A released slot is handed straight to the next waiter, so `running` never exceeds the cap.
  if (running >= MAX_CONCURRENT) await new Promise<void>((r) => waiting.push(r));
  else running++;
  try {
    return await inflate(kind, input, maxBytes);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function inflate(
  kind: 'gzip' | 'deflate' | 'br' | 'inflate',
  input: Buffer,
  maxBytes: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream =
      kind === 'gzip'
        ? zlib.createGunzip()
        : kind === 'br'
          ? zlib.createBrotliDecompress()
          : kind === 'inflate'
            ? zlib.createInflate()
            : // "deflate" in HTTP means zlib-wrapped, but some clients send raw deflate: sniff it.
              isZlibHeader(input)
              ? zlib.createInflate()
              : zlib.createInflateRaw();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null, value?: Buffer) => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve(value!);
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stream.destroy();
        chunks.length = 0;
        finish(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', (err) => {
      finish(
        new AppError(
          'bad_request',
          `body is not valid ${kind === 'inflate' ? 'zlib' : kind} data: ${err.message}`,
        ),
      );
    });
    stream.on('end', () => finish(null, Buffer.concat(chunks, size)));
    stream.end(input);
  });
}

function isZlibHeader(b: Buffer): boolean {
  // CMF 0x78 (deflate, 32K window) and the FCHECK rule: (CMF*256 + FLG) % 31 == 0.
  return b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;
}

/** Undo Content-Encoding (possibly a list, applied in order) with a cap on the output size. */
export async function decodeBody(
  body: Buffer,
  contentEncoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const encodings = (contentEncoding ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s && s !== 'identity');
  let out = body;
  // Encodings are listed in the order they were applied: undo them from the last.
  for (const enc of encodings.reverse()) {
    if (enc === 'gzip' || enc === 'x-gzip') out = await run('gzip', out, maxBytes);
    else if (enc === 'deflate') out = await run('deflate', out, maxBytes);
    else if (enc === 'br') out = await run('br', out, maxBytes);
    else throw new AppError('bad_request', `unsupported content-encoding "${enc}" (use gzip, deflate or br)`);
  }
  if (out.length > maxBytes) throw tooLarge(maxBytes);
  return out;
}

/**
 * The store endpoint's body: JSON, or (old raven clients) base64 of zlib-deflated JSON, or
 * gzip-compressed JSON sent without a Content-Encoding header.
 */
export async function decodeStorePayload(body: Buffer, maxBytes: number): Promise<Buffer> {
  let start = 0;
  while (start < body.length && (body[start] === 0x20 || body[start] === 0x0a || body[start] === 0x0d))
    start++;
  if (body[start] === 0x7b /* { */) return body;
  if (body[0] === 0x1f && body[1] === 0x8b) return run('gzip', body, maxBytes);
  if (isZlibHeader(body)) return run('inflate', body, maxBytes);
  const text = body.toString('latin1').trim();
  if (/^[A-Za-z0-9+/_-]+=*$/.test(text)) {
    const raw = Buffer.from(text, 'base64');
    if (isZlibHeader(raw)) return run('inflate', raw, maxBytes);
    if (raw[0] === 0x1f && raw[1] === 0x8b) return run('gzip', raw, maxBytes);
    return raw;
  }
  return body;
}
