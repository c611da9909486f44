import type { RoleName } from './config.js';
import type { AppContext, Worker } from './context.js';
import type { HttpApp } from './platform/http/server.js';

/**
 * A domain folder's public face to the entry point: the HTTP routes it serves and the workers
 * it runs, each tagged with the role that enables it. `beacon start --roles ingest` mounts only
 * routes and workers tagged `ingest`.
 */
export interface Domain {
  name: string;
  routes?: Array<{ role: RoleName; register(app: HttpApp, ctx: AppContext): Promise<void> | void }>;
  workers?: Array<{ role: RoleName; create(ctx: AppContext): Worker }>;
}
