// The sample shop API shared by both SDK variants: a Fastify app with a few realistic failures.
import Fastify from 'fastify';

class PaymentDeclinedError extends Error {
  name = 'PaymentDeclinedError';
}

function priceCart(cart) {
  // Bug: carts restored from old sessions have no `items`.
  return cart.items.reduce((sum, item) => sum + item.price * item.qty, 0);
}

async function chargeCard(amount) {
  await new Promise((r) => setTimeout(r, 5));
  throw new Error('payment failed', { cause: new PaymentDeclinedError(`card declined for ${amount} EUR`) });
}

/**
 * @param {{ setUser(u: object): void; addBreadcrumb(b: object): void; captureMessage(m: string, l?: string): string }} sdk
 * @param {(app: import('fastify').FastifyInstance) => Promise<void> | void} instrument
 */
export async function buildApp(sdk, instrument) {
  const app = Fastify();
  await instrument(app);
  app.addHook('onRequest', async (req) => {
    const user = req.headers['x-user'];
    if (user) sdk.setUser({ id: String(user) });
  });
  app.get('/', async () => ({ routes: ['/cart', '/checkout', '/low-stock', '/health'] }));
  app.get('/health', async () => ({ ok: true }));
  app.get('/cart', async () => {
    sdk.addBreadcrumb({ category: 'cart', message: 'restoring cart from session' });
    return { total: priceCart({}) };
  });
  app.post('/checkout', async () => {
    sdk.addBreadcrumb({ category: 'checkout', message: 'charging card' });
    await chargeCard(42);
    return { ok: true };
  });
  app.get('/low-stock', async () => {
    const id = sdk.captureMessage('stock below threshold for sku-42', 'warning');
    return { reported: id };
  });
  return app;
}

export async function listen(app) {
  const url = await app.listen({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`shop-api listening on ${url}`);
  return url;
}
