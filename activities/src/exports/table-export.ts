// Run history, bulk results and the audit trail as CSV or a JSON array: text produced as the rows arrive, so an
// export of any size is never held in memory. Each writer is an async generator: `Readable.from(...)` (Node) or
// `ReadableStream.from(...)` (a Response) pulls it only as fast as the reader takes it.

export type CellValue = string | number | boolean | Date | null | undefined;

export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => CellValue;
}

export interface CsvOptions {
  /** A UTF-8 byte order mark first, which Excel needs to read UTF-8; default false. */
  bom?: boolean;
}

/** Text is yielded in pieces of about this size: few enough to be cheap, small enough to stay flat. */
const PIECE = 64 * 1024;

/** Spreadsheets run a cell that starts with one of these as a formula (OWASP, CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

function cellText(value: CellValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') {
    // A typed number cannot be a formula; text that looks like one ("-5", "=SUM()", "@cmd") is quoted with a ' first.
    return FORMULA_START.test(value) ? `'${value}` : value;
  }
  return String(value);
}

/** One field by RFC 4180: quoted when it holds a comma, a quote or a line break, with quotes doubled. */
export function csvField(value: CellValue): string {
  const text = cellText(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV (RFC 4180: CRLF line ends, a header row) with the formula-injection guard on every text cell. */
export async function* csvChunks<Row>(rows: AsyncIterable<Row> | Iterable<Row>, columns: readonly CsvColumn<Row>[], options: CsvOptions = {}): AsyncGenerator<string> {
  let piece = (options.bom ? '\uFEFF' : '') + columns.map((c) => csvField(c.header)).join(',') + '\r\n';
  for await (const row of rows) {
    piece += columns.map((c) => csvField(c.value(row))).join(',') + '\r\n';
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  yield piece;
}

/** BigInts (Postgres counts) as numbers when they fit, as text when they do not. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
}

/** A JSON array, one row per line. */
export async function* jsonArrayChunks(rows: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<string> {
  let piece = '[';
  let first = true;
  for await (const row of rows) {
    piece += `${first ? '\n' : ',\n'}${JSON.stringify(row, replacer) ?? 'null'}`;
    first = false;
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}${first ? '' : '\n'}]\n`;
}
