import { alertsDomain } from './alerts/index.js';
import type { Domain } from './domain.js';
import { identityDomain } from './identity/index.js';
import { ingestDomain } from './ingest/index.js';
import { insightsDomain } from './insights/index.js';
import { issuesDomain } from './issues/index.js';
import { liveDomain } from './live/index.js';
import { uptimeDomain } from './uptime/index.js';
import { webDomain } from './web/index.js';

/** Every domain of Beacon; the entry point mounts each one's routes and workers by role. */
export const domains: Domain[] = [
  identityDomain,
  ingestDomain,
  issuesDomain,
  alertsDomain,
  uptimeDomain,
  insightsDomain,
  liveDomain,
  webDomain,
];
