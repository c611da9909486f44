// Run by sentry-sdk.test.ts in its own process: the official @sentry/node SDK, default transport,
// pointed at Beacon through DSN. Prints the event ids it captured as one JSON line.
import * as Sentry from '@sentry/node';

Sentry.init({ dsn: process.env.DSN, release: 'sdk-test@1.2.3', environment: 'staging' });

function explodeInCheckout() {
  throw new TypeError('cart total is NaN');
}

let exceptionId;
try {
  explodeInCheckout();
} catch (err) {
  exceptionId = Sentry.captureException(err);
}
const messageId = Sentry.captureMessage('payment provider slow', 'warning');
const flushed = await Sentry.flush(10_000);
process.stdout.write(`${JSON.stringify({ exceptionId, messageId, flushed })}\n`);
