import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '@drydock/core';
import { startTestStack } from '../support/stack.ts';

// Every curl example in docs/ runs as a reader would run it: each document's shell blocks in order, in one
// shell, against a fresh stack started as `npm start` starts it (its secrets, the sample catalog, an agent), with
// the API token of its first admin in $DRYDOCK_TOKEN: an example that sends no credential fails with a 401.

const DEFAULT_API = 'http://127.0.0.1:3001';

interface Block {
  line: number;
  text: string;
}

/** The ```sh blocks that call the API, their list-item indentation removed. */
export function curlBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^( *)```sh\n([\s\S]*?)^\1```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const indent = match[1]!.length;
    const text = match[2]!
      .split('\n')
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    if (/\bcurl\b/.test(text)) blocks.push({ line: markdown.slice(0, match.index).split('\n').length, text });
  }
  return blocks;
}

/** One shell for the whole document, so a variable set in one example serves the next; any failed call stops it. */
function script(blocks: Block[], doc: string, api: string): string {
  const prelude = [
    'set -euo pipefail',
    // An HTTP error is a failed example; its body is shown.
    'curl() { command curl --fail-with-body --show-error "$@"; }',
  ];
  const body = blocks.map((b) => `echo "### ${doc}:${b.line}" >&2\n${b.text.replaceAll(DEFAULT_API, api)}`);
  return [...prelude, ...body].join('\n');
}

/** The reader's shell: `$DRYDOCK_TOKEN` holds an API token of theirs, as README says to make one. */
function runShell(source: string, cwd: string, api: string, token: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', source], { cwd, env: { ...process.env, API: api, DRYDOCK_TOKEN: token } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('close', (code) => resolve({ code, output }));
  });
}

const docs = (await readdir(join(REPO_ROOT, 'docs'))).filter((f) => f.endsWith('.md')).sort();
const withExamples: { doc: string; blocks: Block[] }[] = [];
for (const doc of docs) {
  const blocks = curlBlocks(await readFile(join(REPO_ROOT, 'docs', doc), 'utf8'));
  if (blocks.length > 0) withExamples.push({ doc, blocks });
}

describe('the curl examples in docs/', () => {
  test('are found in the API reference and the operators guide', () => {
    expect(withExamples.map((d) => d.doc)).toEqual(expect.arrayContaining(['api.md', 'operators.md']));
  });

  for (const { doc, blocks } of withExamples) {
    test(`run in order against npm start's stack: docs/${doc}`, { timeout: 300_000 }, async () => {
      const stack = await startTestStack();
      const cwd = await mkdtemp(join(tmpdir(), 'drydock-docs-'));
      try {
        const api = stack.config.apiUrl;
        const { code, output } = await runShell(script(blocks, doc, api), cwd, api, stack.admin.token);
        // The last marker names the example that failed.
        expect(code, output.slice(-4000)).toBe(0);
      } finally {
        await stack.teardown();
        await rm(cwd, { recursive: true, force: true });
      }
    });
  }
});
