import { execFileSync, execSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

/**
 * Finds the services the suites need before any test runs. PostgreSQL on 127.0.0.1:5432 is
 * expected on every machine; if it is down we try to start the local cluster. Under CI=true a
 * missing server fails the run; elsewhere the suites that need it skip with a loud message.
 */
export const PG_ADMIN_URL = process.env.BEACON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

export default async function setup(project: TestProject) {
  let ok = await pgReachable();
  if (!ok) {
    try {
      execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main start', {
        stdio: 'ignore',
      });
      for (let i = 0; i < 50 && !ok; i++) {
        await new Promise((r) => setTimeout(r, 200));
        ok = await pgReachable();
      }
    } catch {
      // fall through: reported below
    }
  }
  if (!ok) {
    const msg = `PostgreSQL is not reachable at ${PG_ADMIN_URL}`;
    if (process.env.CI === 'true')
      throw new Error(`${msg}: CI=true forbids skipping the suites that need it`);
    process.stderr.write(`\n\n!!! ${msg}: suites that need PostgreSQL will SKIP !!!\n\n`);
  }
  project.provide('pgAdminUrl', ok ? PG_ADMIN_URL : '');
  return setupKafka(project);
}

// --- Kafka (issue 3): a real broker from scripts/kafka for the bus suites ---------------------

export const KAFKA_BROKERS = process.env.BEACON_TEST_KAFKA_BROKERS ?? '127.0.0.1:9092';
const kafkaScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../scripts/kafka');

function tcpOpen(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':') as [string, string];
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(2000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Only runs that include the bus suites need a broker: `vitest run some/other/path` skips it. */
function runNeedsKafka(): boolean {
  const valued = new Set([
    '-t',
    '--testNamePattern',
    '-c',
    '--config',
    '-r',
    '--root',
    '--dir',
    '--project',
    '--reporter',
    '--shard',
    '--pool',
    '--maxWorkers',
    '--outputFile',
    '--environment',
    '--mode',
  ]);
  const filters: string[] = [];
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (valued.has(a)) i++;
    else if (!a.startsWith('-') && a !== 'run' && a !== 'watch' && a !== 'related') filters.push(a);
  }
  return filters.length === 0 || filters.some((f) => /bus|kafka/i.test(f));
}

/**
 * Under CI=true the broker must come up (scripts/kafka start) or the run fails; elsewhere a broker
 * already listening is used, else we try to start one, else the Kafka suites skip loudly.
 * The returned teardown stops only a broker this setup started.
 */
async function setupKafka(project: TestProject): Promise<(() => void) | undefined> {
  const ci = process.env.CI === 'true';
  if (!runNeedsKafka()) {
    project.provide('kafkaBrokers', '');
    return undefined;
  }
  if (await tcpOpen(KAFKA_BROKERS)) {
    project.provide('kafkaBrokers', KAFKA_BROKERS);
    return undefined;
  }
  try {
    execFileSync('bash', [kafkaScript, 'start'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 15 * 60_000,
    });
  } catch (err) {
    const msg = `Kafka could not be started with scripts/kafka start (${(err as Error).message.split('\n')[0]})`;
    if (ci) throw new Error(`${msg}: CI=true forbids skipping the Kafka suites`);
    process.stderr.write(`\n\n!!! ${msg}: Kafka suites will SKIP !!!\n\n`);
    project.provide('kafkaBrokers', '');
    return undefined;
  }
  project.provide('kafkaBrokers', KAFKA_BROKERS);
  return () => {
    try {
      execFileSync('bash', [kafkaScript, 'stop'], {
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 60_000,
      });
    } catch {
      // the broker may already be gone
    }
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    kafkaBrokers: string;
  }
}
