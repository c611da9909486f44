// The same shop API reporting to Beacon with the official @sentry/node, unchanged: only the DSN
// points at Beacon.
//   SENTRY_DSN=http://<key>@127.0.0.1:8000/<project> node examples/shop-api/sentry.mjs
import * as Sentry from '@sentry/node';
import { buildApp, listen } from './app.mjs';

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  release: 'shop-api@1.0.0',
  environment: process.env.NODE_ENV ?? 'development',
});
Sentry.setTag('service', 'shop-api');

const app = await buildApp(Sentry, (fastify) => Sentry.setupFastifyErrorHandler(fastify));
await listen(app);

process.on('SIGTERM', async () => {
  await app.close();
  await Sentry.close(2000);
  process.exit(0);
});
