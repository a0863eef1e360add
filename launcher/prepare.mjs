// What `npm start` and `npm test` run first, on any Node: plain JavaScript, so that an older Node can still say
// which one is needed instead of failing on a `.ts` file. Then it installs the dependencies when a fresh clone has
// none, or when package-lock.json changed since they were installed.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node.replace(/^>=\s*/, '');

function atLeast(version, minimum) {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

if (!atLeast(process.versions.node, wanted)) {
  console.error(
    `drydock: Node.js ${wanted} or newer is needed (24 LTS recommended); this is Node ${process.versions.node}. ` +
      'Install Node 24 from https://nodejs.org or with a version manager (nvm install 24), then run the command again.',
  );
  process.exit(1);
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

// npm writes node_modules/.package-lock.json on every install: older than the lock file means a stale install.
const installed = mtime(join(root, 'node_modules', '.package-lock.json'));
if (installed === undefined || installed + 2_000 < mtime(join(root, 'package-lock.json'))) {
  console.log(installed === undefined ? 'drydock: installing dependencies (npm ci), once' : 'drydock: package-lock.json changed; reinstalling dependencies (npm ci)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('drydock: npm ci failed; its output above says why');
    process.exit(result.status ?? 1);
  }
}
