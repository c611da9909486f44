import { CliError, exitCodes } from '../api.js';
import { record, table } from '../output.js';
import { api, bool, col, deleteCommand, example, int, items, print, program, type Row } from '../program.js';

// The seed's monitoring commands, exactly: services, endpoints, pings, incidents, webhooks.

const services = program.command('services').description('manage monitored services');
const serviceCols = [
  col('id', 'id'),
  col('name', 'name'),
  col('description', 'description'),
  col('project', 'projectId'),
];

example(
  services
    .command('create')
    .description('create a service')
    .requiredOption('--name <name>', 'service name')
    .option('--description <text>', 'what it is')
    .option('--project-id <id>', 'link to an error-tracking project', int('--project-id'))
    .action(async (o: { name: string; description?: string; projectId?: number }) => {
      const s = await api().post<Row>('/api/v1/services', o);
      print(s, () => record(s, ['id', 'name', 'description', 'projectId']));
    }),
  'beacon services create --name payments --description "Payments API"',
);
example(
  services
    .command('list')
    .description('list services')
    .action(async () => {
      const data = await api().get('/api/v1/services');
      print(data, () => table(items(data), serviceCols));
    }),
  'beacon services list',
);
example(
  services
    .command('get <id>')
    .description('show a service')
    .action(async (id: string) => {
      const s = await api().get<Row>(`/api/v1/services/${int('id')(id)}`);
      print(s, () => record(s, ['id', 'name', 'description', 'projectId']));
    }),
  'beacon services get 1',
);
example(
  services
    .command('update <id>')
    .description('rename or describe a service')
    .option('--name <name>', 'new name')
    .option('--description <text>', 'new description')
    .action(async (id: string, o: { name?: string; description?: string }) => {
      if (o.name === undefined && o.description === undefined)
        throw new CliError('nothing to update: pass --name or --description', exitCodes.usage);
      const s = await api().patch<Row>(`/api/v1/services/${int('id')(id)}`, o);
      print(s, () => record(s, ['id', 'name', 'description', 'projectId']));
    }),
  'beacon services update 1 --name payments-eu',
);
deleteCommand(services, 'service', '/api/v1/services', 'delete a service and its endpoints', 1);

const endpoints = program.command('endpoints').description('manage checked endpoints');
const endpointCols = [
  col('id', 'id'),
  col('service', 'serviceId'),
  col('name', 'name'),
  col('url', 'url'),
  col('interval', 'interval'),
  col('enabled', 'enabled'),
  col('status', 'status'),
];

example(
  endpoints
    .command('create')
    .description('check a URL on a schedule')
    .requiredOption('--service-id <id>', 'service', int('--service-id'))
    .requiredOption('--name <name>', 'endpoint name')
    .requiredOption('--url <url>', 'URL to check')
    .option('--interval <seconds>', 'seconds between checks (10 minimum)', int('--interval'), 60)
    .option('--method <method>', 'HTTP method')
    .option('--timeout <ms>', 'timeout in ms', int('--timeout'))
    .option('--expected-status <code>', 'expected HTTP status', int('--expected-status'))
    .option('--keyword <text>', 'text the body must contain')
    .action(async (o: Row) => {
      const e = await api().post<Row>('/api/v1/endpoints', o);
      print(e, () => record(e, ['id', 'serviceId', 'name', 'url', 'interval', 'enabled']));
    }),
  'beacon endpoints create --service-id 1 --name health --url https://api.example.com/health --interval 30',
);
example(
  endpoints
    .command('list')
    .description('list endpoints')
    .option('--service-id <id>', 'only this service', int('--service-id'))
    .action(async (o: { serviceId?: number }) => {
      const data = await api().get('/api/v1/endpoints', { serviceId: o.serviceId });
      print(data, () => table(items(data), endpointCols));
    }),
  'beacon endpoints list --service-id 1',
);
example(
  endpoints
    .command('get <id>')
    .description('show an endpoint')
    .action(async (id: string) => {
      const e = await api().get<Row>(`/api/v1/endpoints/${int('id')(id)}`);
      print(e, () =>
        record(e, ['id', 'serviceId', 'name', 'url', 'method', 'interval', 'timeout', 'enabled']),
      );
    }),
  'beacon endpoints get 3',
);
example(
  endpoints
    .command('update <id>')
    .description('change an endpoint')
    .option('--name <name>', 'new name')
    .option('--url <url>', 'new URL')
    .option('--interval <seconds>', 'new interval', int('--interval'))
    .option('--enabled <bool>', 'true or false', bool)
    .action(async (id: string, o: Row) => {
      if (Object.keys(o).length === 0) throw new CliError('nothing to update', exitCodes.usage);
      const e = await api().patch<Row>(`/api/v1/endpoints/${int('id')(id)}`, o);
      print(e, () => record(e, ['id', 'serviceId', 'name', 'url', 'interval', 'enabled']));
    }),
  'beacon endpoints update 3 --enabled=false',
);
deleteCommand(endpoints, 'endpoint', '/api/v1/endpoints', 'delete an endpoint', 3);

const pings = program.command('pings').description('see check results');
example(
  pings
    .command('list')
    .description("an endpoint's latest checks, newest first")
    .requiredOption('--endpoint-id <id>', 'endpoint', int('--endpoint-id'))
    .option('--limit <n>', 'how many', int('--limit'), 100)
    .action(async (o: { endpointId: number; limit: number }) => {
      const data = await api().get(`/api/v1/endpoints/${o.endpointId}/pings`, { limit: o.limit });
      print(data, () =>
        table(items(data), [
          col('checked', 'checkedAt'),
          col('ok', 'ok'),
          col('status', 'status'),
          col('http', 'statusCode'),
          col('ms', 'latencyMs'),
          col('error', (r) => r.errorKind ?? ''),
        ]),
      );
    }),
  'beacon pings list --endpoint-id 3 --limit 20',
);

const incidents = program.command('incidents').description('see and resolve incidents');
example(
  incidents
    .command('list')
    .description('list incidents')
    .option('--status <status>', 'open | resolved')
    .action(async (o: { status?: string }) => {
      const data = await api().get('/api/v1/incidents', { status: o.status });
      print(data, () =>
        table(items(data), [
          col('id', 'id'),
          col('endpoint', 'endpointId'),
          col('status', 'status'),
          col('started', 'startedAt'),
          col('resolved', 'resolvedAt'),
          col('cause', 'cause'),
        ]),
      );
    }),
  'beacon incidents list --status open',
);
example(
  incidents
    .command('resolve <id>')
    .description('resolve an incident by hand')
    .action(async (id: string) => {
      const i = await api().post<Row>(`/api/v1/incidents/${int('id')(id)}/resolve`, {});
      print(i, () => `Incident ${id} resolved.`);
    }),
  'beacon incidents resolve 5',
);

const webhooks = program.command('webhooks').description('announce incidents to URLs');
const eventNames = ['incident_start', 'incident_resolved'];
example(
  webhooks
    .command('create')
    .description('send incident events of a service to a URL')
    .requiredOption('--service-id <id>', 'service', int('--service-id'))
    .requiredOption('--url <url>', 'receiver URL')
    .option(
      '--events <list>',
      'comma list of incident_start,incident_resolved',
      'incident_start,incident_resolved',
    )
    .option('--secret <secret>', 'sign deliveries with this HMAC secret')
    .action(async (o: { serviceId: number; url: string; events: string; secret?: string }) => {
      const events = o.events
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const e of events)
        if (!eventNames.includes(e))
          throw new CliError(`unknown event "${e}" (use ${eventNames.join(', ')})`, exitCodes.usage);
      const w = await api().post<Row>('/api/v1/webhooks', {
        serviceId: o.serviceId,
        url: o.url,
        events,
        secret: o.secret,
      });
      print(w, () => record(w, ['id', 'serviceId', 'url', 'events']));
    }),
  'beacon webhooks create --service-id 1 --url https://hooks.example.com/up --events incident_start,incident_resolved',
);
example(
  webhooks
    .command('list')
    .description('list webhooks')
    .option('--service-id <id>', 'only this service', int('--service-id'))
    .action(async (o: { serviceId?: number }) => {
      const data = await api().get('/api/v1/webhooks', { serviceId: o.serviceId });
      print(data, () =>
        table(items(data), [
          col('id', 'id'),
          col('service', 'serviceId'),
          col('url', 'url'),
          col('events', 'events'),
        ]),
      );
    }),
  'beacon webhooks list',
);
deleteCommand(webhooks, 'webhook', '/api/v1/webhooks', 'delete a webhook', 2);
