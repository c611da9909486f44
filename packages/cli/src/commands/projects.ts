import { record, table } from '../output.js';
import {
  api,
  col,
  deleteCommand,
  example,
  int,
  items,
  print,
  program,
  projectOption,
  type Row,
  requireProject,
} from '../program.js';

const projects = program.command('projects').description('manage projects');

example(
  projects
    .command('create')
    .description('create a project; prints its DSN and its key (the secret is shown only now)')
    .requiredOption('--name <name>', 'project name')
    .option('--platform <platform>', 'e.g. node, javascript, python')
    .option('--org <id>', 'organization id (default: your first)', int('--org'))
    .action(async (o: { name: string; platform?: string; org?: number }) => {
      const p = await api().post<Row & { keys?: Row[] }>('/api/v1/projects', {
        name: o.name,
        platform: o.platform,
        orgId: o.org,
      });
      print(p, () => {
        const key = p.keys?.[0] ?? {};
        return `${record(p, ['id', 'slug', 'name', 'dsn'])}\n${record(key, ['publicKey', 'secretKey'])}\n(the secret key is shown only once)`;
      });
    }),
  'beacon projects create --name checkout --platform node',
);

example(
  projects
    .command('list')
    .description('list the projects you can see')
    .action(async () => {
      const data = await api().get('/api/v1/projects');
      print(data, () =>
        table(items(data), [
          col('id', 'id'),
          col('slug', 'slug'),
          col('name', 'name'),
          col('platform', 'platform'),
          col('dsn', 'dsn'),
        ]),
      );
    }),
  'beacon projects list --json',
);

example(
  projects
    .command('get <id>')
    .description('show one project')
    .action(async (id: string) => {
      const p = await api().get<Row>(`/api/v1/projects/${int('id')(id)}`);
      print(p, () => record(p, ['id', 'slug', 'name', 'platform', 'dsn']));
    }),
  'beacon projects get 1',
);

deleteCommand(projects, 'project', '/api/v1/projects', 'delete a project and its data', 3);

const keys = program.command('keys').description("manage a project's DSN keys");
const keyCols = [
  col('id', 'id'),
  col('public key', 'publicKey'),
  col('enabled', 'enabled'),
  col('rate/min', 'rateLimitPerMinute'),
  col('created', 'createdAt'),
];

example(
  keys
    .command('list')
    .description('list keys (secrets are never shown again)')
    .addOption(projectOption())
    .action(async (o: { project?: number }) => {
      const data = await api().get(`/api/v1/projects/${requireProject(o)}/keys`);
      print(data, () => table(items(data), keyCols));
    }),
  'beacon keys list --project 1',
);

example(
  keys
    .command('create')
    .description('create a key; the secret is shown only now')
    .addOption(projectOption())
    .option('--label <label>', 'a name for the key')
    .option('--rate-limit <n>', 'events per minute for this key', int('--rate-limit'))
    .action(async (o: { project?: number; label?: string; rateLimit?: number }) => {
      const k = await api().post<Row>(`/api/v1/projects/${requireProject(o)}/keys`, {
        label: o.label,
        rateLimitPerMinute: o.rateLimit,
      });
      print(
        k,
        () => `${record(k, ['id', 'publicKey', 'secretKey', 'dsn'])}\n(the secret key is shown only once)`,
      );
    }),
  'beacon keys create --project 1 --label ci --rate-limit 600',
);

example(
  keys
    .command('rotate <keyId>')
    .description('replace a key with a new one (the old one stops working)')
    .addOption(projectOption())
    .action(async (keyId: string, o: { project?: number }) => {
      const k = await api().post<Row>(
        `/api/v1/projects/${requireProject(o)}/keys/${int('keyId')(keyId)}/rotate`,
        {},
      );
      print(
        k,
        () => `${record(k, ['id', 'publicKey', 'secretKey', 'dsn'])}\n(the secret key is shown only once)`,
      );
    }),
  'beacon keys rotate 4 --project 1',
);

example(
  keys
    .command('disable <keyId>')
    .description('stop accepting events sent with this key')
    .addOption(projectOption())
    .action(async (keyId: string, o: { project?: number }) => {
      const k = await api().patch<Row>(`/api/v1/projects/${requireProject(o)}/keys/${int('keyId')(keyId)}`, {
        enabled: false,
      });
      print(k, () => `Disabled key ${keyId}.`);
    }),
  'beacon keys disable 4 --project 1',
);
