// Run by issues.test.ts in its own process: the official @sentry/node SDK with its default
// transport, pointed at Beacon through DSN. MODE=burst sends 50 events from 3 distinct bugs;
// MODE=one sends one more event of the first bug. Prints what it sent as one JSON line.
import * as Sentry from '@sentry/node';

Sentry.init({
  dsn: process.env.DSN,
  release: process.env.RELEASE ?? 'shop@1.0.0',
  environment: 'production',
  transportOptions: { bufferSize: 500 },
});

class CheckoutError extends Error {
  name = 'CheckoutError';
}

function loadUser(id) {
  const users = {};
  return users[id].profile; // TypeError: Cannot read properties of undefined
}

function applyDiscount(cart, code) {
  if (code.length > 3) throw new CheckoutError(`discount code ${code} expired for cart ${cart}`);
}

function reportSlowPayment(ms) {
  Sentry.captureMessage(`payment provider slow: ${ms} ms`, 'warning');
}

const ids = [];
const counts = { loadUser: 0, applyDiscount: 0, message: 0 };
const n = process.env.MODE === 'one' ? 1 : 50;
for (let i = 0; i < n; i++) {
  // Interleaved so no two consecutive events are identical (the SDK's Dedupe would drop them).
  const bug = ['loadUser', 'applyDiscount', 'loadUser', 'applyDiscount', 'message'][i % 5];
  counts[bug]++;
  Sentry.setUser({ id: `user-${i % 7}` });
  if (bug === 'message') {
    reportSlowPayment(1000 + i * 37);
    continue;
  }
  try {
    if (bug === 'loadUser') loadUser(1000 + i);
    else applyDiscount(5000 + i, `SAVE${i}XYZ`);
  } catch (err) {
    ids.push(Sentry.captureException(err));
  }
}
const flushed = await Sentry.flush(15_000);
process.stdout.write(`${JSON.stringify({ flushed, counts, ids })}\n`);
