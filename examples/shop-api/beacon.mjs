// The shop API reporting to Beacon with @beacon/sdk.
//   npm run build -w packages/sdk
//   BEACON_DSN=http://<key>@127.0.0.1:8000/<project> node examples/shop-api/beacon.mjs
import * as Beacon from '@beacon/sdk';
import { beaconFastify } from '@beacon/sdk/fastify';
import { buildApp, listen } from './app.mjs';

Beacon.init({
  dsn: process.env.BEACON_DSN,
  release: 'shop-api@1.0.0',
  environment: process.env.NODE_ENV ?? 'development',
  // Scrub before anything leaves the process.
  beforeSend(event) {
    if (event.request?.headers) delete event.request.headers['x-internal-token'];
    return event;
  },
});
Beacon.setTag('service', 'shop-api');

const app = await buildApp(Beacon, (fastify) => fastify.register(beaconFastify));
await listen(app);

process.on('SIGTERM', async () => {
  await app.close();
  await Beacon.close(2000);
  process.exit(0);
});
