import { record, table } from '../output.js';
import {
  api,
  col,
  example,
  int,
  items,
  print,
  program,
  projectOption,
  type Row,
  requireProject,
} from '../program.js';

const issues = program.command('issues').description('list and triage issues');

const issueCols = [
  col('id', 'id'),
  col('status', 'status'),
  col('level', 'level'),
  col('count', 'count'),
  col('users', 'userCount'),
  col('last seen', 'lastSeen'),
  col('title', (r) => String(r.title ?? '').slice(0, 80)),
];

example(
  issues
    .command('list')
    .description("list a project's issues")
    .addOption(projectOption())
    .option('--status <status>', 'unresolved | resolved | ignored')
    .option('--level <level>', 'debug | info | warning | error | fatal')
    .option('--query <text>', 'search title and culprit')
    .option('--sort <sort>', 'lastSeen | firstSeen | count | users')
    .option('--limit <n>', 'how many', int('--limit'), 25)
    .action(
      async (o: {
        project?: number;
        status?: string;
        level?: string;
        query?: string;
        sort?: string;
        limit: number;
      }) => {
        const data = await api().get(`/api/v1/projects/${requireProject(o)}/issues`, {
          status: o.status,
          level: o.level,
          query: o.query,
          sort: o.sort,
          limit: o.limit,
        });
        print(data, () => table(items(data), issueCols));
      },
    ),
  'beacon issues list --project 1 --status unresolved --limit 10',
);

example(
  issues
    .command('show <id>')
    .description('show one issue')
    .action(async (id: string) => {
      const i = await api().get<Row>(`/api/v1/issues/${int('id')(id)}`);
      print(i, () =>
        record(i, [
          'id',
          'title',
          'culprit',
          'status',
          'level',
          'count',
          'userCount',
          'firstSeen',
          'lastSeen',
          'projectId',
        ]),
      );
    }),
  'beacon issues show 42',
);

for (const [name, status, help] of [
  ['resolve', 'resolved', 'mark an issue resolved (a new event reopens it)'],
  ['ignore', 'ignored', 'ignore an issue'],
] as const) {
  example(
    issues
      .command(`${name} <id>`)
      .description(help)
      .action(async (id: string) => {
        const i = await api().patch<Row>(`/api/v1/issues/${int('id')(id)}`, { status });
        print(i, () => `Issue ${id} is now ${String(i.status ?? status)}.`);
      }),
    `beacon issues ${name} 42`,
  );
}

example(
  issues
    .command('events <id>')
    .description("list an issue's events, newest first")
    .option('--limit <n>', 'how many', int('--limit'), 25)
    .action(async (id: string, o: { limit: number }) => {
      const data = await api().get(`/api/v1/issues/${int('id')(id)}/events`, { limit: o.limit });
      print(data, () =>
        table(items(data), [
          col('event id', 'eventId'),
          col('time', 'timestamp'),
          col('level', 'level'),
          col('release', 'release'),
          col('environment', 'environment'),
          col('title', (r) => String(r.title ?? '').slice(0, 60)),
        ]),
      );
    }),
  'beacon issues events 42 --limit 5',
);
