import { constants, type Stats } from 'node:fs';
import { access, lstat, open, stat } from 'node:fs/promises';
import { type FileValidationOperation, parseFileCheck, type ParsedFileCheck } from '@drydock/core/operations';
import { type CheckResult, errorMessage, type OperationLog, type Outcome } from '@drydock/core/operations';

/** 1 MB is 1,048,576 bytes here, as in `ls -lh` and `du -m`. */
export const MB = 1024 * 1024;
/** `contains:` reads no further than this into a file. */
export const CONTAINS_READ_LIMIT = 10 * MB;

/** What a file is, as far as the checks need to know. */
export type FileKind = 'a regular file' | 'a directory' | 'a named pipe' | 'a socket' | 'a device';

/**
 * A file as the checking user sees it, wherever it is: on this host (the agent) or on an SSH or WinRM host,
 * whose remote program gathered the same facts. The checks are judged the same way from it.
 */
export interface FileView {
  kind: FileKind;
  size: number;
  mtimeMs: number;
  /** Whether the checking user may read or write it, worded for the check's detail. */
  permission(kind: 'readable' | 'writable'): Promise<{ ok: boolean; detail: string }>;
  /** Whether the first CONTAINS_READ_LIMIT bytes hold `needle`; `error` when the file could not be read. */
  search(needle: string): Promise<{ found: boolean; complete: boolean; length: number } | { error: string }>;
}

/** The file, or why there is none to look at ("file does not exist", …). */
export type FileLookup = { file: FileView } | { missing: string };

/**
 * Each check is judged separately, as the checking user sees the file: a missing file fails every check
 * with "file does not exist". Permission checks ask the kernel (access(2)), so for an agent running as root
 * `readable` and `writable` pass whatever the mode bits say, as they do for root's own processes.
 */
export function runFileValidation(op: FileValidationOperation, context: { log: OperationLog }): Promise<Outcome> {
  return validateFile(op, context.log, localFile);
}

/** The checks of `op`, judged from what `lookup` finds at its path; every check is a log line. */
export async function validateFile(op: FileValidationOperation, log: OperationLog, lookup: (path: string) => Promise<FileLookup>): Promise<Outcome> {
  log.line(`file ${op.path}: ${op.checks.join(', ')}`);
  const found = await lookup(op.path);
  const checks: CheckResult[] = [];
  for (const check of op.checks) {
    let result: CheckResult;
    try {
      const parsed = parseFileCheck(check);
      result = 'missing' in found ? { name: check, ok: false, detail: found.missing } : { name: check, ...(await judge(parsed, found.file)) };
    } catch (err) {
      result = { name: check, ok: false, detail: errorMessage(err) };
    }
    log.line(`${result.ok ? 'ok' : 'FAILED'} ${result.name}: ${result.detail}`);
    checks.push(result);
  }
  return { checks };
}

async function localFile(path: string): Promise<FileLookup> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    return { missing: await whyMissing(path, err as NodeJS.ErrnoException) };
  }
  let content: Promise<{ bytes: Buffer; complete: boolean }> | undefined;
  return {
    file: {
      kind: kindOf(info),
      size: info.size,
      mtimeMs: info.mtimeMs,
      permission: (kind) => permission(path, info, kind),
      async search(needle) {
        try {
          const head = await (content ??= readHead(path));
          return { found: head.bytes.includes(Buffer.from(needle, 'utf8')), complete: head.complete, length: head.bytes.length };
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          return { error: code === 'EACCES' ? 'permission denied' : errorMessage(err) };
        }
      },
    },
  };
}

async function whyMissing(path: string, err: NodeJS.ErrnoException): Promise<string> {
  if (err.code === 'ENOENT') {
    const link = await lstat(path).catch(() => null);
    return link?.isSymbolicLink() ? MISSING.dangling : MISSING.absent;
  }
  if (err.code === 'ENOTDIR') return MISSING.throughFile;
  if (err.code === 'EACCES') return MISSING.denied;
  return `file cannot be looked at: ${err.message}`;
}

/** Why a path has no file behind it, in the words every transport uses. */
export const MISSING = {
  absent: 'file does not exist',
  dangling: 'file does not exist (a symbolic link to a missing target)',
  throughFile: 'file does not exist (a part of the path is not a directory)',
  denied: 'file cannot be looked at: permission denied on a directory in its path',
} as const;

async function judge(check: ParsedFileCheck, file: FileView): Promise<{ ok: boolean; detail: string }> {
  switch (check.kind) {
    case 'exists':
      return { ok: true, detail: `exists (${describe(file)})` };
    case 'readable':
    case 'writable':
      return file.permission(check.kind);
    case 'size_gt_mb':
    case 'size_lt_mb': {
      if (file.kind !== 'a regular file') return { ok: false, detail: `is ${file.kind}; size checks apply to files` };
      const size = `size ${megabytes(file.size)} MB (${file.size} bytes)`;
      const limit = check.mb * MB;
      if (check.kind === 'size_gt_mb') {
        return file.size > limit ? { ok: true, detail: `${size} > ${check.mb} MB` } : { ok: false, detail: `${size}, not more than ${check.mb} MB` };
      }
      return file.size < limit ? { ok: true, detail: `${size} < ${check.mb} MB` } : { ok: false, detail: `${size}, not less than ${check.mb} MB` };
    }
    case 'modified_within': {
      const age = Date.now() - file.mtimeMs;
      const when = new Date(file.mtimeMs).toISOString();
      if (age < 0) return { ok: true, detail: `modified ${ago(-age)} in the future (${when}): the host's clock may be off` };
      return age <= check.ms
        ? { ok: true, detail: `modified ${ago(age)} ago (${when}), within ${check.text}` }
        : { ok: false, detail: `modified ${ago(age)} ago (${when}), not within ${check.text}` };
    }
    case 'contains': {
      if (file.kind !== 'a regular file') return { ok: false, detail: `is ${file.kind}; contains reads files` };
      const head = await file.search(check.needle);
      if ('error' in head) return { ok: false, detail: `cannot be read: ${head.error}` };
      const needle = JSON.stringify(check.needle);
      if (head.found) {
        return { ok: true, detail: head.complete ? `contains ${needle}` : `contains ${needle} in its first ${CONTAINS_READ_LIMIT / MB} MB` };
      }
      return {
        ok: false,
        detail: head.complete
          ? `${needle} not found in the file (${head.length} bytes)`
          : `${needle} not found in the first ${CONTAINS_READ_LIMIT / MB} MB (the file is ${megabytes(file.size)} MB; the rest was not read)`,
      };
    }
  }
}

/** A permission check's detail: who asked, and the mode bits where the host has them. */
export function permissionDetail(kind: 'readable' | 'writable', ok: boolean, who: string, mode: string | null, reason?: string): { ok: boolean; detail: string } {
  const seen = mode === null ? '' : `; ${mode}`;
  if (ok) return { ok, detail: `${kind} by ${who}${seen}` };
  return { ok, detail: `not ${kind} ${reason ?? `by ${who}${seen}`}` };
}

/** Mode bits as the detail shows them: `mode 0644`. */
export function modeText(mode: number): string {
  return `mode ${(mode & 0o7777).toString(8).padStart(4, '0')}`;
}

async function permission(path: string, info: Stats, kind: 'readable' | 'writable'): Promise<{ ok: boolean; detail: string }> {
  const uid = process.getuid?.();
  const who = uid === undefined ? 'this agent' : uid === 0 ? 'this agent (root, which the mode bits do not stop)' : `this agent (uid ${uid})`;
  try {
    await access(path, kind === 'readable' ? constants.R_OK : constants.W_OK);
    return permissionDetail(kind, true, who, modeText(info.mode));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EROFS' ? 'on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? undefined : errorMessage(err);
    return permissionDetail(kind, false, who, modeText(info.mode), reason);
  }
}

async function readHead(path: string): Promise<{ bytes: Buffer; complete: boolean }> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    // Read to EOF rather than to st_size: /proc files say 0 and logs grow while they are read.
    while (total < CONTAINS_READ_LIMIT) {
      const chunk = Buffer.alloc(Math.min(MB, CONTAINS_READ_LIMIT - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) return { bytes: Buffer.concat(chunks), complete: true };
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, total);
    return { bytes: Buffer.concat(chunks), complete: bytesRead === 0 };
  } finally {
    await handle.close();
  }
}

function kindOf(info: Stats): FileKind {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'a regular file';
}

function describe(file: FileView): string {
  return file.kind === 'a regular file' ? `a regular file, ${megabytes(file.size)} MB` : file.kind;
}

function megabytes(bytes: number): string {
  const mb = bytes / MB;
  if (bytes === 0) return '0';
  if (mb < 0.001) return '< 0.001';
  return mb < 0.1 ? mb.toFixed(3) : mb.toFixed(1);
}

function ago(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}
