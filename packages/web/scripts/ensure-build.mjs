// `npm start` runs this first: build the dashboard once when packages/web/dist is missing
// (a checkout where `npm install` skipped scripts). Never fails the start: the server runs
// without the dashboard and says so.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(path.join(web, 'dist', 'index.html'))) {
  process.stderr.write('beacon: building the web dashboard (packages/web/dist is missing)…\n');
  try {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], {
      cwd: web,
      stdio: 'inherit',
    });
  } catch {
    process.stderr.write(
      'beacon: the dashboard build failed; starting without it (run `npm run build` to retry)\n',
    );
  }
}
