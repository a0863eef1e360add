import { execFile } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, test } from 'vitest';
import { csvChunks, type CsvColumn, jsonArrayChunks } from './table-export.ts';

interface RunRow {
  id: string;
  script: string;
  status: string;
  exitCode: number | null;
  durationMs: number;
  startedAt: Date;
  note: string;
}

const COLUMNS: CsvColumn<RunRow>[] = [
  { header: 'Run', value: (r) => r.id },
  { header: 'Script', value: (r) => r.script },
  { header: 'Status', value: (r) => r.status },
  { header: 'Exit code', value: (r) => r.exitCode },
  { header: 'Duration (ms)', value: (r) => r.durationMs },
  { header: 'Started', value: (r) => r.startedAt },
  { header: 'Note', value: (r) => r.note },
];

const NOTES = ['plain', 'comma, inside', 'quote " inside', 'line\nbreak', 'crlf\r\nbreak', '=1+1', '+SUM(A1:A9)', '-5', '@cmd', '\tTAB', '\rCR', "=HYPERLINK(\"http://x\",\"y\")", '', 'ünïcødé ☃', ' leading space'];

function row(i: number): RunRow {
  return { id: `run-${i}`, script: i % 2 ? 'deploy' : 'disk-usage', status: 'failed', exitCode: i % 3 ? -1 : null, durationMs: i * 10, startedAt: new Date(Date.UTC(2026, 2, 1, 0, 0, i)), note: NOTES[i % NOTES.length]! };
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c;
  return out;
}

/** Python's csv module, an independent reader of RFC 4180. */
async function pythonCsv(csv: string): Promise<string[][]> {
  const child = execFile('python3', ['-c', 'import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline="")))))']);
  const output = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: string) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`python3 exited ${code}`))));
  });
  child.stdin!.end(csv);
  return JSON.parse(await output) as string[][];
}

describe('csvChunks', () => {
  test('RFC 4180: a header row, CRLF, quoting where needed; a CSV reader gets every value back, formulas defused', async () => {
    const rows = NOTES.map((_, i) => row(i));
    const csv = await text(csvChunks(rows, COLUMNS));
    expect(csv.startsWith('Run,Script,Status,Exit code,Duration (ms),Started,Note\r\n')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    const parsed = await pythonCsv(csv);
    expect(parsed[0]).toEqual(COLUMNS.map((c) => c.header));
    expect(parsed.slice(1)).toEqual(
      rows.map((r) => [r.id, r.script, r.status, r.exitCode === null ? '' : String(r.exitCode), String(r.durationMs), r.startedAt.toISOString(), /^[=+\-@\t\r]/.test(r.note) ? `'${r.note}` : r.note]),
    );
    const notes = parsed.slice(1).map((r) => r[6]);
    expect(notes).toContain("'=1+1");
    expect(notes).toContain("'-5");
    expect(notes).toContain("'\rCR");
    // A typed number is data, never a formula: -1 stays -1.
    expect(parsed[2]![3]).toBe('-1');
  });

  test('with a BOM for Excel, and only a header for no rows', async () => {
    expect(await text(csvChunks([], COLUMNS, { bom: true }))).toBe('\uFEFFRun,Script,Status,Exit code,Duration (ms),Started,Note\r\n');
  });
});

describe('jsonArrayChunks', () => {
  test('a JSON array of the rows, one per line; empty is []', async () => {
    const rows = NOTES.map((_, i) => ({ ...row(i), count: BigInt(i), huge: 2n ** 70n }));
    const json = await text(jsonArrayChunks(rows));
    expect(JSON.parse(json)).toEqual(rows.map((r) => ({ ...r, startedAt: r.startedAt.toISOString(), count: Number(r.count), huge: '1180591620717411303424' })));
    expect(json.split('\n')).toHaveLength(rows.length + 3);
    expect(JSON.parse(await text(jsonArrayChunks([])))).toEqual([]);
  });
});

describe('streaming', () => {
  test.each([
    ['CSV', (rows: AsyncIterable<RunRow>) => csvChunks(rows, COLUMNS)],
    ['JSON', (rows: AsyncIterable<RunRow>) => jsonArrayChunks(rows)],
  ])('%s of 300,000 rows to a slow reader reads rows only as the reader takes them', async (_name, writer) => {
    const total = 300_000;
    let produced = 0;
    let delivered = 0;
    let ahead = 0;
    async function* rows(): AsyncGenerator<RunRow> {
      for (let i = 0; i < total; i++) {
        produced++;
        ahead = Math.max(ahead, produced - delivered);
        // One line per row, so lines delivered count rows delivered.
        yield { ...row(i), note: 'plain' };
      }
    }
    let newlines = 0;
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, done) {
        for (const byte of chunk) if (byte === 0x0a) newlines++;
        // Rows the reader has fully taken: lines past the header (CSV) or the opening bracket (JSON).
        delivered = Math.max(0, newlines - 1);
        setImmediate(done);
      },
    });
    await pipeline(Readable.from(writer(rows())), slow);
    expect(produced).toBe(total);
    // Bounded by a few 64 KiB pieces in the pipe's buffers, never by the export's length.
    expect(ahead).toBeLessThan(10_000);
  });
});
