// Sends errors to Beacon with the official @sentry/node SDK, exactly as an application would.
// Usage: DSN=... MESSAGE=... COUNT=n node e2e/send-errors.mjs
import * as Sentry from '@sentry/node';

Sentry.init({
  dsn: process.env.DSN,
  environment: 'e2e',
  release: 'shop@1.2.3',
  tracesSampleRate: 0,
  // Dedupe would drop the repeats: we want COUNT real events of one issue.
  integrations: (defaults) => defaults.filter((i) => i.name !== 'Dedupe'),
});
Sentry.setUser({ id: 'user-42', email: 'buyer@example.com' });
Sentry.setTag('region', 'eu-west');

function chargeCard(amount) {
  if (amount > 0) throw new Error(process.env.MESSAGE ?? 'Payment failed: card declined');
}

function checkout() {
  Sentry.addBreadcrumb({ category: 'cart', message: 'checkout started', level: 'info' });
  chargeCard(42);
}

// A different exception type and code path: grouped as a separate issue.
function syncInventory() {
  throw new TypeError(process.env.MESSAGE ?? 'Inventory sync timed out');
}

const count = Number(process.env.COUNT ?? 1);
for (let i = 0; i < count; i++) {
  try {
    if (process.env.KIND === 'inventory') syncInventory();
    else checkout();
  } catch (err) {
    Sentry.captureException(err);
  }
}
const ok = await Sentry.flush(10_000);
process.exit(ok ? 0 : 1);
