#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, exitCodes } from './api.js';
import { printable } from './output.js';
import { program } from './program.js';

// `beacon start` and `beacon migrate` run the server itself; one command name for everything.
const [command] = process.argv.slice(2);
if (command === 'start' || command === 'migrate') {
  await import('@beacon/server/main');
} else {
  await import('./commands/session.js');
  await import('./commands/projects.js');
  await import('./commands/issues.js');
  await import('./commands/alerts.js');
  await import('./commands/uptime.js');
  await import('./commands/test-event.js');
  program
    .command('start')
    .description('run the Beacon server (all roles, or --roles a,b); see beacon start --help')
    .allowUnknownOption();
  program.command('migrate').description('apply database migrations and exit');
  // --json and --token may stand anywhere (`beacon projects list --json`): lift them to the front.
  const argv = process.argv.slice(2);
  const lifted: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json' || a.startsWith('--token=')) lifted.push(a);
    else if (a === '--token' && i + 1 < argv.length) lifted.push(a, argv[++i]!);
    else rest.push(a);
  }
  try {
    await program.parseAsync([...lifted, ...rest], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version print and exit 0; usage errors were already printed by commander
      process.exitCode = err.exitCode === 0 ? 0 : exitCodes.usage;
    } else if (err instanceof CliError) {
      process.stderr.write(`beacon: ${printable(err.message)}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`beacon: ${printable((err as Error).message)}\n`);
      process.exitCode = exitCodes.error;
    }
  }
}
