import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type PdfReport, pdfText, writePdfReport } from './pdf-report.ts';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pdf-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* runs(count: number): AsyncGenerator<string[]> {
  for (let i = 0; i < count; i++) {
    yield [`run-${String(i).padStart(4, '0')}`, i % 5 === 0 ? 'deploy-database-with-a-name-far-too-long-for-its-column' : 'disk-usage', `web-${i % 3}`, i % 4 === 0 ? 'failed' : 'succeeded', String(1000 + i)];
  }
}

function report(rows: AsyncIterable<string[]>): PdfReport {
  return {
    title: 'Run history',
    subtitle: 'Team ops, 2026-03-01 to 2026-03-07',
    generatedAt: new Date('2026-03-08T09:00:00Z'),
    summary: [
      { label: 'Runs', value: '1,284' },
      { label: 'Success rate', value: '93.4%' },
      { label: 'p95 duration', value: '41.2 s' },
      { label: 'Slowest script', value: 'backup-日本' },
    ],
    charts: [{ title: 'Failures per script', bars: [{ label: 'deploy-db', value: 31 }, { label: 'disk-usage', value: 12 }, { label: 'rotate-logs', value: 0 }] }],
    tables: [{ title: 'Runs', columns: [{ header: 'Run', weight: 1.5 }, { header: 'Script', weight: 2 }, { header: 'Host' }, { header: 'Status' }, { header: 'Duration (ms)', align: 'right' }], rows }],
  };
}

async function pages(file: string): Promise<string[]> {
  const { stdout } = await run('pdftotext', ['-layout', file, '-']);
  return stdout.split('\f').slice(0, -1);
}

describe('writePdfReport', () => {
  test('a valid PDF with the summary, the chart and a table that runs onto further pages with its header again', async () => {
    const file = join(dir, 'report.pdf');
    await writePdfReport(report(runs(120)), createWriteStream(file));
    const info = (await run('pdfinfo', [file])).stdout;
    expect(info).toMatch(/^Title:\s+Run history$/m);
    expect(info).toMatch(/^Producer:\s+Drydock$/m);
    const text = await pages(file);
    expect(Number(/^Pages:\s+(\d+)$/m.exec(info)![1])).toBe(text.length);
    expect(text.length).toBeGreaterThanOrEqual(3);

    const first = text[0]!;
    for (const expected of ['Run history', 'Team ops, 2026-03-01 to 2026-03-07', 'Generated 2026-03-08T09:00:00.000Z', 'Success rate', '93.4%', '41.2 s', 'backup-??', 'Failures per script', 'deploy-db', 'rotate-logs', '31', 'Run history - page 1']) {
      expect(first).toContain(expected);
    }
    expect(first).toMatch(/Run\s+Script\s+Host\s+Status\s+Duration \(ms\)/);
    expect(first).toMatch(/run-0000\s+deploy-database-with-a-name-far-t\S*…\s+web-0\s+failed\s+1000/);
    expect(text[1]).toMatch(/^\s*Runs \(continued\)\s*\n\s*Run\s+Script\s+Host\s+Status\s+Duration \(ms\)/);
    expect(text[1]).toContain('Run history - page 2');
    const all = text.join('\n');
    for (let i = 0; i < 120; i++) expect(all).toContain(`run-${String(i).padStart(4, '0')}`);
    expect(text.at(-1)).toMatch(/run-0119\s+disk-usage\s+web-2\s+succeeded\s+1119/);
  });

  test('a long table is written out page by page while its rows are still being read', async () => {
    let written = 0;
    let writtenAtLastRow = -1;
    const total = 12_000;
    async function* rows(): AsyncGenerator<string[]> {
      let i = 0;
      for await (const cells of runs(total)) {
        if (++i === total) writtenAtLastRow = written;
        yield cells;
      }
    }
    const file = join(dir, 'long.pdf');
    const disk = createWriteStream(file);
    const counting = new Writable({
      write(chunk: Buffer, _enc, done) {
        written += chunk.byteLength;
        disk.write(chunk, () => setImmediate(done));
      },
      final(done) {
        disk.end(done);
      },
    });
    await writePdfReport(report(rows()), counting);
    const size = (await stat(file)).size;
    expect(size).toBe(written);
    // When the last row was read, all but the last pages' worth had left: pages are not kept until the end.
    expect(size).toBeGreaterThan(512 * 1024);
    expect(size - writtenAtLastRow).toBeLessThan(192 * 1024);
    expect(Number(/^Pages:\s+(\d+)$/m.exec((await run('pdfinfo', [file])).stdout)![1])).toBeGreaterThan(200);
  });

  test('text the standard fonts cannot show is printed as ?, never garbled', () => {
    expect(pdfText('ünïcødé €5 “quoted” — 日本 ☃ 🚀\nnext')).toBe('ünïcødé €5 “quoted” — ?? ? ? next');
  });
});
