import { readFileSync } from 'node:fs';
import { CliError, exitCodes } from '../api.js';
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

const rules = program.command('rules').description('manage alert rules');

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${what} is not valid JSON`, exitCodes.usage);
  }
}

interface RuleOpts {
  project?: number;
  name: string;
  trigger: string;
  threshold?: number;
  windowMinutes?: number;
  level?: string;
  webhook?: string[];
  slack?: string[];
  email?: string[];
  cooldown?: number;
  file?: string;
}

/** Build the rule body from flags, or take it whole from --file (JSON) for the rarer trigger settings. */
function ruleBody(o: RuleOpts): unknown {
  if (o.file) return parseJson(readFileSync(o.file, 'utf8'), o.file);
  const trigger: Row = { type: o.trigger };
  if (o.trigger === 'level') trigger.level = o.level ?? 'error';
  if (o.trigger === 'count_threshold') trigger.threshold = o.threshold;
  if (o.trigger === 'frequency') {
    trigger.threshold = o.threshold;
    trigger.windowMinutes = o.windowMinutes ?? 5;
  }
  const actions = [
    ...(o.webhook ?? []).map((url) => ({ type: 'webhook', url })),
    ...(o.slack ?? []).map((url) => ({ type: 'slack', url })),
    ...(o.email?.length ? [{ type: 'email', to: o.email }] : []),
  ];
  return { name: o.name, trigger, actions, cooldownMinutes: o.cooldown };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

example(
  rules
    .command('create')
    .description('create an alert rule')
    .addOption(projectOption())
    .option('--name <name>', 'rule name')
    .option(
      '--trigger <type>',
      'new_issue | regression | level | count_threshold | frequency | anomaly | uptime',
    )
    .option('--level <level>', 'for --trigger level: the minimum level')
    .option('--threshold <n>', 'for count_threshold and frequency: the count', int('--threshold'))
    .option('--window-minutes <n>', 'for frequency: the window', int('--window-minutes'))
    .option('--webhook <url>', 'send to a webhook (repeatable)', collect)
    .option('--slack <url>', 'send to a Slack incoming webhook (repeatable)', collect)
    .option('--email <address>', 'send email to (repeatable)', collect)
    .option('--cooldown <minutes>', 'fold repeats within this many minutes', int('--cooldown'))
    .option('--file <rule.json>', 'the whole rule body as JSON (overrides the flags)')
    .action(async (o: RuleOpts) => {
      if (!o.file && (!o.name || !o.trigger))
        throw new CliError('--name and --trigger are required (or --file)', exitCodes.usage);
      const r = await api().post<Row>(`/api/v1/projects/${requireProject(o)}/rules`, ruleBody(o));
      print(r, () => record(r, ['id', 'name', 'trigger', 'actions', 'enabled']));
    }),
  'beacon rules create --project 1 --name "new bugs" --trigger new_issue --webhook https://hooks.example.com/beacon',
);

example(
  rules
    .command('list')
    .description("list a project's rules")
    .addOption(projectOption())
    .action(async (o: { project?: number }) => {
      const data = await api().get(`/api/v1/projects/${requireProject(o)}/rules`);
      print(data, () =>
        table(items(data), [
          col('id', 'id'),
          col('name', 'name'),
          col('trigger', (r) => (r.trigger as Row | undefined)?.type),
          col('actions', (r) => ((r.actions as Row[] | undefined) ?? []).map((a) => a.type)),
          col('enabled', 'enabled'),
        ]),
      );
    }),
  'beacon rules list --project 1',
);

deleteCommand(rules, 'rule', '/api/v1/rules', 'delete a rule', 7);

const alerts = program.command('alerts').description('see and acknowledge alerts');

example(
  alerts
    .command('list')
    .description("list a project's alerts")
    .addOption(projectOption())
    .option('--state <state>', 'firing | acknowledged | resolved')
    .action(async (o: { project?: number; state?: string }) => {
      const data = await api().get(`/api/v1/projects/${requireProject(o)}/alerts`, { state: o.state });
      print(data, () =>
        table(items(data), [
          col('id', 'id'),
          col('state', 'state'),
          col('rule', 'ruleName'),
          col('count', 'count'),
          col('last fired', 'lastFiredAt'),
          col('reason', (r) => String(r.reason ?? '').slice(0, 70)),
        ]),
      );
    }),
  'beacon alerts list --project 1 --state firing',
);

example(
  alerts
    .command('ack <id>')
    .description('acknowledge an alert')
    .action(async (id: string) => {
      const a = await api().post<Row>(`/api/v1/alerts/${int('id')(id)}/acknowledge`, {});
      print(a, () => `Alert ${id} acknowledged.`);
    }),
  'beacon alerts ack 12',
);
