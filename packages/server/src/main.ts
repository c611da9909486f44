#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { openStorage, StartupError, startBeacon } from './beacon.js';
import { ConfigError, loadConfig, parseRoles, readEnvironment } from './config.js';
import { migrate } from './platform/db/migrate.js';
import { createLogger } from './platform/logger.js';

const usage = `beacon — error tracking, uptime monitoring and alerting

Usage:
  beacon start [--roles api,ingest,issues,alerts,uptime,insights]   run the server (all roles by default)
  beacon migrate                                                    apply database migrations and exit

Configuration comes from the environment and an optional .env file; see the README.
Example: PORT=8000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/beacon beacon start --roles ingest,api`;

/** One clear line on stderr and a non-zero exit: what a bad setting or a failed boot gets. */
function fail(err: unknown): never {
  if (err instanceof ConfigError || err instanceof StartupError) {
    process.stderr.write(`beacon: ${err.message}\n`);
  } else {
    process.stderr.write(`beacon: failed to start: ${(err as Error)?.message ?? String(err)}\n`);
  }
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const [command = 'start', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const { values } = parseArgs({
    args: rest,
    options: { roles: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const env = readEnvironment();
  if (values.roles !== undefined) {
    parseRoles(values.roles);
    env.BEACON_ROLES = values.roles;
  }
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);

  if (command === 'migrate') {
    const storage = await openStorage(config, log);
    try {
      const applied = await migrate(storage.db, log);
      log.info({ applied: applied.length }, applied.length ? 'migrations applied' : 'schema up to date');
    } finally {
      await storage.close();
    }
    return;
  }
  if (command !== 'start') {
    process.stderr.write(`beacon: unknown command "${command}"\n\n${usage}\n`);
    process.exit(2);
  }

  const beacon = await startBeacon(config, log);
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      log.warn('second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down: draining in-flight work');
    setTimeout(() => {
      log.error(
        { timeoutMs: config.shutdownTimeoutMs },
        'shutdown did not finish in time (SHUTDOWN_TIMEOUT_SECONDS): exiting now',
      );
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    beacon.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main(process.argv.slice(2)).catch(fail);
