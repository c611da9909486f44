import { hostname } from 'node:os';
import { Api, CliError, exitCodes } from '../api.js';
import { configDir, removeCredentials, saveCredentials } from '../config.js';
import { record, table } from '../output.js';
import { api, ask, col, example, print, program, type Row } from '../program.js';

example(
  program
    .command('login')
    .description('store the server URL and an API token in your config dir (mode 0600)')
    .option('--url <url>', 'server URL, e.g. http://localhost:8000')
    .option('--email <email>', 'account email (to create a personal API token)')
    .option('--password <password>', 'account password (or BEACON_PASSWORD; prompted on a terminal)')
    .option('--api-token <token>', 'use an existing personal API token instead of email and password')
    .action(async (o: { url?: string; email?: string; password?: string; apiToken?: string }) => {
      const given = o.url ?? program.opts<{ url?: string }>().url ?? process.env.BEACON_URL;
      if (!given)
        throw new CliError(
          '--url <server> is required, e.g. beacon login --url http://localhost:8000',
          exitCodes.usage,
        );
      const url = given.replace(/\/+$/, '');
      let token = o.apiToken;
      if (!token) {
        const email = o.email ?? (await ask('Email: '));
        const password = o.password ?? process.env.BEACON_PASSWORD ?? (await ask('Password: ', true));
        const session = await new Api(url).post<{ accessToken: string }>('/api/v1/auth/signin', {
          email,
          password,
        });
        const created = await new Api(url, session.accessToken).post<{ token: string }>('/api/v1/tokens', {
          name: `beacon CLI on ${hostname()}`,
          scope: 'write',
        });
        token = created.token;
      }
      const me = await new Api(url, token).get<{ user: { email: string } }>('/api/v1/me');
      const file = saveCredentials({ url, token });
      print(
        { url, email: me.user.email, file },
        () => `Logged in to ${url} as ${me.user.email} (credentials in ${file})`,
      );
    }),
  'beacon login --url http://localhost:8000 --email me@example.com',
);

example(
  program
    .command('logout')
    .description('forget the stored URL and token')
    .action(() => {
      const removed = removeCredentials();
      print({ removed, dir: configDir() }, () => (removed ? 'Logged out.' : 'Not logged in.'));
    }),
  'beacon logout',
);

example(
  program
    .command('whoami')
    .description('show the account the token belongs to')
    .action(async () => {
      const me = await api().get<{ user: Row; orgs?: Row[] }>('/api/v1/me');
      print(me, () =>
        [
          record(me.user, ['id', 'email', 'name']),
          '',
          table(me.orgs ?? [], [col('org', 'id'), col('name', 'name'), col('role', 'role')]),
        ].join('\n'),
      );
    }),
  'beacon whoami --json',
);
