import { constants, type Stats } from 'node:fs';
import { access, lstat, open, stat } from 'node:fs/promises';
import { type FileValidationOperation, parseFileCheck, type ParsedFileCheck } from '@drydock/core/operations';
import { type CheckResult, errorMessage, type OperationLog, type Outcome } from '@drydock/core/operations';

/** 1 MB is 1,048,576 bytes here, as in `ls -lh` and `du -m`. */
export const MB = 1024 * 1024;
/** `contains:` reads no further than this into a file. */
export const CONTAINS_READ_LIMIT = 10 * MB;

/**
 * Each check is judged separately, as this agent's user sees the file: a missing file fails every check
 * with "file does not exist". Permission checks ask the kernel (access(2)), so for an agent running as root
 * `readable` and `writable` pass whatever the mode bits say, as they do for root's own processes.
 */
export async function runFileValidation(op: FileValidationOperation, context: { log: OperationLog }): Promise<Outcome> {
  const { log } = context;
  log.line(`file ${op.path}: ${op.checks.join(', ')}`);
  let info: Stats | null = null;
  let missing = 'file does not exist';
  try {
    info = await stat(op.path);
  } catch (err) {
    missing = await whyMissing(op.path, err as NodeJS.ErrnoException);
  }

  let content: Promise<{ bytes: Buffer; complete: boolean }> | undefined;
  const read = () => (content ??= readHead(op.path));
  const checks: CheckResult[] = [];
  for (const check of op.checks) {
    let result: CheckResult;
    try {
      const parsed = parseFileCheck(check);
      result = info === null ? { name: check, ok: false, detail: missing } : { name: check, ...(await judge(parsed, op.path, info, read)) };
    } catch (err) {
      result = { name: check, ok: false, detail: errorMessage(err) };
    }
    log.line(`${result.ok ? 'ok' : 'FAILED'} ${result.name}: ${result.detail}`);
    checks.push(result);
  }
  return { checks };
}

async function whyMissing(path: string, err: NodeJS.ErrnoException): Promise<string> {
  if (err.code === 'ENOENT') {
    const link = await lstat(path).catch(() => null);
    return link?.isSymbolicLink() ? 'file does not exist (a symbolic link to a missing target)' : 'file does not exist';
  }
  if (err.code === 'ENOTDIR') return 'file does not exist (a part of the path is not a directory)';
  if (err.code === 'EACCES') return 'file cannot be looked at: permission denied on a directory in its path';
  return `file cannot be looked at: ${err.message}`;
}

async function judge(
  check: ParsedFileCheck,
  path: string,
  info: Stats,
  read: () => Promise<{ bytes: Buffer; complete: boolean }>,
): Promise<{ ok: boolean; detail: string }> {
  switch (check.kind) {
    case 'exists':
      return { ok: true, detail: `exists (${describe(info)})` };
    case 'readable':
    case 'writable':
      return permission(path, info, check.kind);
    case 'size_gt_mb':
    case 'size_lt_mb': {
      if (!info.isFile()) return { ok: false, detail: `is ${kindOf(info)}; size checks apply to files` };
      const size = `size ${megabytes(info.size)} MB (${info.size} bytes)`;
      const limit = check.mb * MB;
      if (check.kind === 'size_gt_mb') {
        return info.size > limit ? { ok: true, detail: `${size} > ${check.mb} MB` } : { ok: false, detail: `${size}, not more than ${check.mb} MB` };
      }
      return info.size < limit ? { ok: true, detail: `${size} < ${check.mb} MB` } : { ok: false, detail: `${size}, not less than ${check.mb} MB` };
    }
    case 'modified_within': {
      const age = Date.now() - info.mtimeMs;
      const when = new Date(info.mtimeMs).toISOString();
      if (age < 0) return { ok: true, detail: `modified ${ago(-age)} in the future (${when}): the host's clock may be off` };
      return age <= check.ms
        ? { ok: true, detail: `modified ${ago(age)} ago (${when}), within ${check.text}` }
        : { ok: false, detail: `modified ${ago(age)} ago (${when}), not within ${check.text}` };
    }
    case 'contains': {
      if (!info.isFile()) return { ok: false, detail: `is ${kindOf(info)}; contains reads files` };
      let head: { bytes: Buffer; complete: boolean };
      try {
        head = await read();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return { ok: false, detail: code === 'EACCES' ? 'cannot be read: permission denied' : `cannot be read: ${errorMessage(err)}` };
      }
      const needle = JSON.stringify(check.needle);
      if (head.bytes.includes(Buffer.from(check.needle, 'utf8'))) {
        return { ok: true, detail: head.complete ? `contains ${needle}` : `contains ${needle} in its first ${CONTAINS_READ_LIMIT / MB} MB` };
      }
      return {
        ok: false,
        detail: head.complete
          ? `${needle} not found in the file (${head.bytes.length} bytes)`
          : `${needle} not found in the first ${CONTAINS_READ_LIMIT / MB} MB (the file is ${megabytes(info.size)} MB; the rest was not read)`,
      };
    }
  }
}

async function permission(path: string, info: Stats, kind: 'readable' | 'writable'): Promise<{ ok: boolean; detail: string }> {
  const uid = process.getuid?.();
  const who = uid === undefined ? 'this agent' : uid === 0 ? 'this agent (root, which the mode bits do not stop)' : `this agent (uid ${uid})`;
  const mode = `mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')}`;
  try {
    await access(path, kind === 'readable' ? constants.R_OK : constants.W_OK);
    return { ok: true, detail: `${kind} by ${who}; ${mode}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EROFS' ? 'on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? `by ${who}; ${mode}` : errorMessage(err);
    return { ok: false, detail: `not ${kind} ${reason}` };
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

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'a regular file';
}

function describe(info: Stats): string {
  return info.isFile() ? `a regular file, ${megabytes(info.size)} MB` : kindOf(info);
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
