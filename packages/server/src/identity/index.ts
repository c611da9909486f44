import type { Domain } from '../domain.js';
import { registerIdentityRoutes } from './routes.js';

export const identityDomain: Domain = {
  name: 'identity',
  routes: [{ role: 'api', register: registerIdentityRoutes }],
};
