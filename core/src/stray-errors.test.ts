import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const MODULE = fileURLToPath(new URL('./stray-errors.ts', import.meta.url));

it('logs a stray rejection and an escaped exception with their stacks, and the process goes on', async () => {
  const program = `
    import { logStrayErrors } from ${JSON.stringify(MODULE)};
    logStrayErrors('test-server');
    Promise.reject(new Error('nobody awaited this'));
    setTimeout(() => { throw new Error('thrown from a timer'); }, 10);
    setTimeout(() => console.log('still serving'), 100);
  `;
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', program]);
  expect(stdout).toBe('still serving\n');
  expect(stderr).toContain('test-server: a promise rejected with nobody to handle it; serving on: Error: nobody awaited this\n    at ');
  expect(stderr).toContain('test-server: an exception escaped its request; serving on: Error: thrown from a timer\n    at ');
});
