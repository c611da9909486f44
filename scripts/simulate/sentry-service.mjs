// One simulated service: the official @sentry/node SDK (or @beacon/sdk) in its own process,
// throwing real errors from distinct code paths when the simulator tells it to.
import process from 'node:process';

const [, , sdkName, dsn, service, releaseArg] = process.argv;
const release = releaseArg ?? `${service}@1.0.0`;
let sdk;
if (sdkName === 'beacon') sdk = await import('@beacon/sdk');
else sdk = await import('@sentry/node');
sdk.init({ dsn, release, environment: 'production', defaultIntegrations: false, sampleRate: 1 });

class InvalidTokenError extends Error {
  name = 'InvalidTokenError';
}
class TimeoutError extends Error {
  name = 'TimeoutError';
}
class CardDeclinedError extends Error {
  name = 'CardDeclinedError';
}

// Distinct in-app call paths so grouping has something real to work with.
const paths = {
  invalidToken: (n) => {
    function verifyToken() {
      throw new InvalidTokenError(`token ${n.toString(16)}abc expired for user ${n}`);
    }
    verifyToken();
  },
  sessionMissing: (n) => {
    function loadSession() {
      const store = {};
      return store[`s${n}`].userId;
    }
    loadSession();
  },
  inventoryTimeout: (n) => {
    function reserveStock() {
      throw new TimeoutError(`upstream inventory timed out after ${3000 + (n % 500)} ms`);
    }
    reserveStock();
  },
  orderValidation: (n) => {
    function validateOrder() {
      throw new RangeError(`quantity ${n % 100} out of range for sku-${n}`);
    }
    validateOrder();
  },
  cardDeclined: (n) => {
    function chargeCard() {
      throw new CardDeclinedError(`card ending ${1000 + (n % 9000)} declined`);
    }
    chargeCard();
  },
  currencyBug: () => {
    function convertAmount(price) {
      return price.currency.toUpperCase();
    }
    convertAmount({}.price);
  },
  smtpDown: (n) => {
    function sendEmail() {
      const err = new Error(`connect ECONNREFUSED 127.0.0.1:${2500 + (n % 10)}`);
      err.name = 'SmtpError';
      throw err;
    }
    sendEmail();
  },
};

process.on('message', async (msg) => {
  if (msg.type === 'flush') {
    await sdk.flush(5000);
    // The simulator stops waiting after a few seconds and disconnects: nobody to tell then.
    if (process.connected) process.send({ type: 'flushed' });
    return;
  }
  if (msg.type !== 'error') return;
  for (let i = 0; i < (msg.count ?? 1); i++) {
    const n = Math.floor(Math.random() * 1e6);
    try {
      paths[msg.path](n);
    } catch (err) {
      const user = { id: `u${n % (msg.users ?? 50)}` };
      if (sdk.withScope) {
        sdk.withScope((scope) => {
          scope.setUser(user);
          scope.setTag('service', service);
          scope.setTag('region', ['eu-west', 'us-east'][n % 2]);
          sdk.captureException(err);
        });
      } else sdk.captureException(err);
    }
  }
});
process.on('disconnect', async () => {
  await sdk.flush?.(3000);
  process.exit(0);
});
process.send?.({ type: 'ready' });
