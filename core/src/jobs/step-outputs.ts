import { type Parameter, type ParamValue, validateParams } from '../manifest.ts';
import type { OutputDeclaration } from './output-declaration.ts';

// Workflow-safe: pure. How a script passes data forward: like GitHub's GITHUB_OUTPUT, it appends lines to the
// file named by DRYDOCK_OUTPUT, `key=value` or, for a value of several lines,
//
//     key<<DELIMITER
//     line one
//     line two
//     DELIMITER
//
// The worker reads the file after the script ends; this module turns its bytes into typed outputs.

/** The environment variable that names the output file, as GITHUB_OUTPUT does for GitHub Actions. */
export const OUTPUT_FILE_VARIABLE = 'DRYDOCK_OUTPUT';
/**
 * The largest output file read. Outputs live in the job's workflow state (and its history) for the rest of the
 * run, so they are for versions, ids and short lists; a report belongs in an artifact.
 */
export const MAX_OUTPUT_FILE_BYTES = 64 * 1024;
/** Keys one file may set. */
export const MAX_OUTPUT_KEYS = 100;
const MAX_KEY_LENGTH = 128;
const MAX_DELIMITER_LENGTH = 128;

export interface OutputFileProblem {
  /** 1-based line of the file, when the problem has one. */
  line?: number;
  message: string;
}

export type OutputFileParse = { ok: true; values: Record<string, string> } | { ok: false; problems: OutputFileProblem[] };

/**
 * The file's text: UTF-8 (a byte order mark is dropped) or, as Windows PowerShell 5 writes by default,
 * UTF-16 with its byte order mark. Bytes that are not text refuse the file.
 */
export function decodeOutputFile(bytes: Uint8Array): { ok: true; text: string } | { ok: false; problems: OutputFileProblem[] } {
  if (bytes.length > MAX_OUTPUT_FILE_BYTES) {
    return { ok: false, problems: [{ message: `the ${OUTPUT_FILE_VARIABLE} file has ${bytes.length} bytes; at most ${MAX_OUTPUT_FILE_BYTES} are read: put large data in an artifact and output its name` }] };
  }
  const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  const encoding = !utf16 ? 'utf-8' : bytes[0] === 0xff ? 'utf-16le' : 'utf-16be';
  try {
    // TextDecoder drops the byte order mark itself (ignoreBOM false).
    return { ok: true, text: new TextDecoder(encoding, { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, problems: [{ message: `the ${OUTPUT_FILE_VARIABLE} file is not ${encoding === 'utf-8' ? 'UTF-8' : 'UTF-16'} text: write it as UTF-8 (in PowerShell, Add-Content -Encoding utf8)` }] };
  }
}

/** An output key: a letter or "_", then letters, digits, "_" and "-"; checked by hand, as the line may be long. */
function keyProblem(key: string): string | null {
  if (key === '') return 'the key is empty';
  if (key.length > MAX_KEY_LENGTH) return `the key is longer than ${MAX_KEY_LENGTH} characters`;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    if (letter || (i > 0 && ((c >= 48 && c <= 57) || c === 45))) continue;
    return `"${key.slice(0, 40)}" is not a key: letters, digits, "_" and "-", starting with a letter or "_"`;
  }
  return null;
}

/**
 * Parses the output file's text: every problem at once, each with its line. `key=value` takes the value after
 * the first "="; `key<<DELIMITER` takes the lines up to the first line that is exactly DELIMITER (the newline
 * before it is not part of the value). Line ends may be "\n" or "\r\n"; empty lines between entries are skipped;
 * a key set twice keeps its last value, as a script that updates an output expects.
 */
export function parseOutputFile(text: string): OutputFileParse {
  const problems: OutputFileProblem[] = [];
  const values: Record<string, string> = {};
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  // A file that ends with a newline has an empty last piece, which is no line.
  if (lines.at(-1) === '') lines.pop();
  const set = (key: string, value: string, line: number) => {
    if (!(key in values) && Object.keys(values).length >= MAX_OUTPUT_KEYS) {
      if (!problems.some((p) => p.message.startsWith('more than'))) problems.push({ line, message: `more than ${MAX_OUTPUT_KEYS} outputs: write fewer keys` });
      return;
    }
    values[key] = value;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const equals = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (heredoc !== -1 && (equals === -1 || heredoc < equals)) {
      const key = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      const bad = keyProblem(key);
      if (bad) problems.push({ line: i + 1, message: bad });
      if (delimiter === '') {
        problems.push({ line: i + 1, message: `${key}<< needs a delimiter after "<<", a word that no line of the value is, like EOF` });
        continue;
      }
      if (delimiter.length > MAX_DELIMITER_LENGTH) {
        problems.push({ line: i + 1, message: `the delimiter is longer than ${MAX_DELIMITER_LENGTH} characters` });
        continue;
      }
      let end = i + 1;
      while (end < lines.length && lines[end] !== delimiter) end++;
      if (end >= lines.length) {
        problems.push({ line: i + 1, message: `the value of ${key} started here is never ended: no line is exactly "${delimiter.slice(0, 40)}"` });
        break;
      }
      if (!bad) set(key, lines.slice(i + 1, end).join('\n'), i + 1);
      i = end;
      continue;
    }
    if (equals === -1) {
      problems.push({ line: i + 1, message: 'the line is neither key=value nor key<<DELIMITER' });
      continue;
    }
    const key = line.slice(0, equals);
    const bad = keyProblem(key);
    if (bad) problems.push({ line: i + 1, message: bad });
    else set(key, line.slice(equals + 1), i + 1);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values };
}

export type OutputValues = Record<string, ParamValue>;

export type StepOutputsResult =
  | { ok: true; outputs: OutputValues; /** Keys the file set that the manifest does not declare: dropped, for the run log to say so. */ ignored: string[] }
  | { ok: false; problems: string[] };

function describeProblem(p: OutputFileProblem): string {
  return p.line === undefined ? p.message : `line ${p.line}: ${p.message}`;
}

/** The text of one output as its declared type: numbers and booleans parsed, a host list split at commas or line ends. */
function candidate(decl: OutputDeclaration, raw: string): unknown {
  switch (decl.type) {
    case 'integer':
    case 'number': {
      const trimmed = raw.trim();
      const n = Number(trimmed);
      return trimmed === '' || Number.isNaN(n) ? raw : n;
    }
    case 'boolean': {
      const lower = raw.trim().toLowerCase();
      // PowerShell prints $true as True.
      return lower === 'true' ? true : lower === 'false' ? false : raw;
    }
    case 'host_list':
      return raw
        .split(/[,\n]/)
        .map((h) => h.trim())
        .filter(Boolean);
    case 'date':
    case 'host':
    case 'enum':
      return raw.trim();
    default:
      return raw;
  }
}

/**
 * The typed outputs of a step: the file parsed, each declared output checked by the parameter rules of its type
 * (the same rules a run's parameters meet), undeclared keys dropped. A file that does not parse, or a value that
 * is not of its declared type, fails the step: the script broke its manifest's contract.
 */
export function readStepOutputs(bytes: Uint8Array, declared: readonly OutputDeclaration[], script: string): StepOutputsResult {
  const decoded = decodeOutputFile(bytes);
  if (!decoded.ok) return { ok: false, problems: decoded.problems.map(describeProblem) };
  const parsed = parseOutputFile(decoded.text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems.map((p) => `${OUTPUT_FILE_VARIABLE} ${describeProblem(p)}`) };
  const outputs: OutputValues = {};
  const problems: string[] = [];
  for (const decl of declared) {
    const raw = parsed.values[decl.name];
    if (raw === undefined) continue;
    const value = candidate(decl, raw);
    // An empty list is a value ("no hosts need it"), which parameter rules would read as none given.
    if (Array.isArray(value) && value.length === 0) {
      outputs[decl.name] = [];
      continue;
    }
    const parameter = { ...decl, title: `output ${decl.name}`, required: false } as Parameter;
    const checked = validateParams([parameter], { [decl.name]: value });
    if (checked.ok) {
      const typed = checked.values[decl.name];
      if (typed !== undefined) outputs[decl.name] = typed;
    } else {
      const said = Object.values(checked.fields).flat()[0] ?? 'is not valid';
      problems.push(`${said} (declared ${decl.type} in ${script}; the script wrote "${raw.length > 60 ? `${raw.slice(0, 60)}…` : raw}")`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, outputs, ignored: Object.keys(parsed.values).filter((k) => !declared.some((d) => d.name === k)) };
}
