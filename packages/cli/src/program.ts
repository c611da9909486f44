import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import { Api, CliError, exitCodes } from './api.js';
import { loadCredentials } from './config.js';
import type { Column } from './output.js';

export type Row = Record<string, unknown>;
interface GlobalOpts {
  json?: boolean;
  url?: string;
  token?: string;
}

export const program = new Command('beacon')
  .description(
    'Beacon: error tracking, uptime monitoring and alerting.\nServer: beacon start | beacon migrate. Everything else talks to a server over its API.',
  )
  .option('--json', 'print JSON instead of tables (for scripts)')
  .option('--url <url>', 'server URL (default: from `beacon login`, or BEACON_URL)')
  .option('--token <token>', 'API token (default: from `beacon login`, or BEACON_TOKEN)')
  // Program options count only before the command, so commands may have their own --url
  // (`beacon endpoints create --url …`); --json and --token are lifted from anywhere (see index.ts).
  .enablePositionalOptions()
  .showHelpAfterError('(add --help for usage)')
  .configureOutput({ outputError: (str, write) => write(str) })
  .exitOverride();

const globals = (): GlobalOpts => program.opts<GlobalOpts>();

export function api(requireToken = true): Api {
  const g = globals();
  const creds = loadCredentials();
  const url = g.url ?? creds.url;
  const token = g.token ?? creds.token;
  if (!url)
    throw new CliError('no server: run `beacon login --url <server>` or set BEACON_URL', exitCodes.usage);
  if (requireToken && !token)
    throw new CliError('not logged in: run `beacon login` or set BEACON_TOKEN', exitCodes.auth);
  return new Api(url, token);
}

export function print(data: unknown, human: () => string): void {
  process.stdout.write(`${globals().json ? JSON.stringify(data, null, 2) : human()}\n`);
}

/** The rows of a list answer: a bare array, or the first array field (`items`, `rules`, `alerts`, …). */
export const items = (data: unknown): Row[] => {
  if (Array.isArray(data)) return data as Row[];
  const arr =
    data !== null && typeof data === 'object' ? Object.values(data as Row).find(Array.isArray) : undefined;
  // An answer without any list is not "no rows": printing "(none)" would hide the problem.
  if (!arr) throw new CliError('unexpected answer from the server: expected a list', exitCodes.error);
  return arr as Row[];
};

export const col = (header: string, key: string | ((r: Row) => unknown)): Column<Row> => ({
  header,
  get: typeof key === 'function' ? key : (r) => r[key],
});

export function int(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new CliError(`${name} must be a whole number (got "${v}")`, exitCodes.usage);
    return Number(v);
  };
}

export function bool(v: string): boolean {
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new CliError(`expected true or false (got "${v}")`, exitCodes.usage);
}

export function example(cmd: Command, text: string): Command {
  return cmd.addHelpText('after', `\nExample:\n  ${text}`);
}

export function projectOption(): Option {
  return new Option('--project <id>', 'project id (default: BEACON_PROJECT)')
    .env('BEACON_PROJECT')
    .argParser(int('--project'));
}

export function requireProject(opts: { project?: number }): number {
  if (!opts.project)
    throw new CliError('--project <id> is required (or set BEACON_PROJECT)', exitCodes.usage);
  return opts.project;
}

export async function ask(question: string, hidden = false): Promise<string> {
  if (!process.stdin.isTTY)
    throw new CliError(`${question.replace(/:\s*$/, '')} is required (pass it as a flag)`, exitCodes.usage);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  const answer = await rl.question(question);
  rl.close();
  if (hidden) process.stdout.write('\n');
  return answer.trim();
}

/** `<parent> delete <id>`: DELETE `${collection}/<id>` and say so. */
export function deleteCommand(
  parent: Command,
  noun: string,
  collection: string,
  description: string,
  exampleId = 1,
) {
  return example(
    parent
      .command('delete <id>')
      .description(description)
      .action(async (id: string) => {
        await api().delete(`${collection}/${int('id')(id)}`);
        print({ deleted: Number(id) }, () => `Deleted ${noun} ${id}.`);
      }),
    `beacon ${parent.name()} delete ${exampleId}`,
  );
}
