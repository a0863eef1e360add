import { randomBytes } from 'node:crypto';
import { NO_SECRETS } from '@drydock/core/job-data';
import type { Duplex } from 'node:stream';
import { type DatabaseQueryOperation, type FileValidationOperation, type ServiceHealthOperation, type ShellCommandOperation } from '@drydock/core/operations';
import type { Operation, Outcome } from '@drydock/core/operations';
import { runDatabaseQuery } from '../operations/database-query.ts';
import { type FileKind, type FileLookup, MISSING, modeText, permissionDetail, validateFile } from '../operations/file-validation.ts';
import type { OperationContext, OperationExecutor } from '../operations/run-operation.ts';
import { BODY_READ_LIMIT, describeHttpFailure, type HttpExchange } from '../operations/service-health.ts';
import { commandLine, NOT_STARTED } from '../operations/shell-command.ts';
import { judgeUnitState, SYSTEMD_NOT_BOOTED, unitStateUnknown } from '../operations/systemd-unit.ts';
import { FILE_VALIDATION_PROGRAM, HTTP_PROGRAM, SHELL_COMMAND_PROGRAM, SYSTEMD_PROGRAM } from './operation-programs.ts';
import { ENV_NAME } from './remote-wrapper.ts';
import { SshError } from './ssh-error.ts';
import { type InvocationExit, runInvocation, type SshSession } from './ssh-transport.ts';
import { commandEnv, commandProgram, complaints, containsNeedles, fact, factBytes, failedCheck, fileCheckEnv, httpCheckByProgram, judgeCommandRun, needleSearch, programEnded } from '../operations/fact-programs.ts';
import { factReader, type HostProgram } from '../transport/program-facts.ts';

/** A remote program's facts (`<tag> key value` lines, in order) and everything else it printed. */
export interface ProgramRun {
  facts: [string, string][];
  exit: InvocationExit;
}

export interface RemoteProgram extends HostProgram {
  argv?: string[];
}

/** How long the programs that only look (file, systemd) may take; an HTTP check gets its own timeout on top. */
const LOOK_SECONDS = 30;
const HTTP_MARGIN_SECONDS = 15;

/** Runs a fixed sh program on the host through the wrapper; its inputs go as variables, never in a command line. */
export async function runRemoteProgram(session: SshSession, where: string, spec: RemoteProgram, signal: AbortSignal): Promise<ProgramRun> {
  const tag = randomBytes(8).toString('hex');
  const env: Record<string, string> = { DRYDOCK_OP_TAG: tag, ...spec.env };
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new SshError('other', `${name} cannot be passed to the host: names are DRYDOCK_ followed by A-Z, 0-9 and _`);
    if (value.includes('\0')) throw new SshError('other', `a value for ${spec.what} contains a NUL byte and cannot be passed to the host`);
  }
  const reader = factReader(tag, spec);
  const exit = await runInvocation(
    session,
    { workDirBase: '/tmp', env, script: { extension: '.sh', content: spec.program }, argv: ['sh', null, ...(spec.argv ?? [])] },
    {
      where,
      timeoutSeconds: spec.timeoutSeconds,
      mask: NO_SECRETS,
      signal,
      what: spec.what,
      onLine: reader.onLine,
    },
  );
  return { facts: reader.facts, exit };
}

export interface SshOperationHost {
  session: SshSession;
  /** How messages name the host: `root@10.0.4.12:22`. */
  where: string;
}

/**
 * Host operations on an SSH host: each a fixed sh program that gathers what the agent would see on that host,
 * judged by the agent's own code. database_query connects from this worker through a tunnel the host opens
 * (ssh2 forwardOut), so the address in the manifest is the database as the host sees it.
 */
export function sshOperations(host: SshOperationHost): OperationExecutor {
  return (op: Operation, context: OperationContext): Promise<Outcome> => {
    switch (op.type) {
      case 'shell_command':
        return shellCommand(host, op, context);
      case 'file_validation':
        return fileValidation(host, op, context);
      case 'service_health':
        return serviceHealth(host, op, context);
      case 'database_query':
        return databaseQuery(host, op, context);
    }
  };
}

async function shellCommand(host: SshOperationHost, op: ShellCommandOperation, context: OperationContext): Promise<Outcome> {
  const { log } = context;
  log.line(commandLine(op));
  const program = { ...commandProgram(op, context, SHELL_COMMAND_PROGRAM, commandEnv(op)), argv: op.command };
  const run = await runRemoteProgram(host.session, host.where, program, context.signal);
  const command = op.command[0]!;
  return judgeCommandRun(op, run, log, {
    noexec: NOT_STARTED.notExecutable(command),
    badenv: `could not start ${command}: an environment name is not letters, digits and _`,
  });
}

const STAT_KINDS: Record<string, FileKind> = {
  'regular file': 'a regular file',
  'regular empty file': 'a regular file',
  directory: 'a directory',
  fifo: 'a named pipe',
  socket: 'a socket',
  'character special file': 'a device',
  'block special file': 'a device',
};

/** The facts FILE_VALIDATION_PROGRAM reported, as the FileView the checks are judged on. */
export function fileFromFacts(run: ProgramRun, needles: readonly string[]): FileLookup {
  const missing = fact(run, 'missing');
  if (missing !== undefined) {
    const [reason, ...rest] = missing.split(' ');
    const known: Record<string, string> = { dangling: MISSING.dangling, notdir: MISSING.throughFile, denied: MISSING.denied, absent: MISSING.absent };
    return { missing: known[reason!] ?? `file cannot be looked at: ${rest.join(' ').replace(/^\S+: /, '') || reason}` };
  }
  const stat = fact(run, 'stat');
  const parsed = stat === undefined ? null : /^(.+)\|(\d+)\|(\d+)\|([0-7]+)$/.exec(stat);
  if (!parsed) return { missing: `file cannot be looked at: stat gave no answer (${stat ?? 'nothing'})` };
  const [uid, name] = (fact(run, 'user') ?? '').split(' ');
  const who = uid === '0' ? `the SSH user ${name || 'root'} (root, which the mode bits do not stop)` : `the SSH user ${name || '?'} (uid ${uid || '?'})`;
  const mode = modeText(parseInt(parsed[4]!, 8));
  const size = Number(parsed[2]);
  const length = Number(fact(run, 'length') ?? '0');
  const unreadable = fact(run, 'unreadable');
  return {
    file: {
      kind: STAT_KINDS[parsed[1]!] ?? 'a regular file',
      size,
      mtimeMs: Number(parsed[3]) * 1000,
      permission: async (kind) => permissionDetail(kind, fact(run, kind) === 'yes', who, mode),
      async search(needle) {
        if (unreadable !== undefined) return { error: /Permission denied/.test(unreadable) ? 'permission denied' : unreadable.replace(/^\S+: /, '') };
        return needleSearch(run, needles, needle, length);
      },
    },
  };
}

async function fileValidation(host: SshOperationHost, op: FileValidationOperation, context: OperationContext): Promise<Outcome> {
  const needles = containsNeedles(op);
  const lineBreak = needles.find((n) => /[\r\n]/.test(n));
  if (lineBreak !== undefined) {
    context.log.line(`file ${op.path}: ${op.checks.join(', ')}`);
    const detail = `contains:${JSON.stringify(lineBreak)} has a line break, which is not checked over SSH: check one line of it`;
    context.log.line(`FAILED contains: ${detail}`);
    return { checks: op.checks.map((name) => ({ name, ok: false, detail })) };
  }
  const run = await runRemoteProgram(host.session, host.where, { program: FILE_VALIDATION_PROGRAM, env: fileCheckEnv(op, needles), timeoutSeconds: LOOK_SECONDS, what: 'the file check', onOutput: complaints(context) }, context.signal);
  const ended = programEnded(run, 'the file check', LOOK_SECONDS);
  return validateFile(op, context.log, async () => (ended !== null ? { missing: `file cannot be looked at: ${ended}` } : fileFromFacts(run, needles)));
}

async function serviceHealth(host: SshOperationHost, op: ServiceHealthOperation, context: OperationContext): Promise<Outcome> {
  const { log } = context;
  if (op.http) {
    const program = { program: HTTP_PROGRAM, marginSeconds: HTTP_MARGIN_SECONDS };
    return httpCheckByProgram(op.http, context, program, (spec) => runRemoteProgram(host.session, host.where, spec, context.signal), httpFromFacts);
  }
  if (op.systemd) {
    const unit = op.systemd;
    log.line(`systemctl show ${unit.unit} (expecting ${unit.expect})`);
    const run = await runRemoteProgram(host.session, host.where, { program: SYSTEMD_PROGRAM, env: { DRYDOCK_OP_UNIT: unit.unit }, timeoutSeconds: LOOK_SECONDS, what: 'systemctl', onOutput: complaints(context) }, context.signal);
    const seen = unitFromFacts(run);
    if ('error' in seen) return unitStateUnknown(seen.error, log);
    return judgeUnitState(unit, seen.state, log, seen.note);
  }
  return failedCheck(log, 'state', `Windows services are checked on Windows hosts, over WinRM or by an agent; ${host.where} is reached over SSH, which runs POSIX sh`);
}

/** curl's exit codes that mean the TLS certificate was not accepted (`man curl`, EXIT CODES). */
const CURL_CERTIFICATE = new Set([51, 58, 59, 60, 77, 83, 90, 91]);

/** The facts HTTP_PROGRAM reported, as the exchange judgeHttp judges. */
export function httpFromFacts(run: ProgramRun, url: string, timeoutSeconds: number): HttpExchange {
  if (run.exit.cancelled) return { failure: 'cancelled' };
  if (run.exit.timedOut) return { failure: `no response within ${timeoutSeconds} s` };
  if (fact(run, 'nocurl') !== undefined) return { failure: 'curl is not installed on the host: install it (the HTTP check runs curl there, so localhost means the host)' };
  const rc = Number(fact(run, 'rc') ?? 'NaN');
  const error = (fact(run, 'error') ?? '').replace(/^curl: \(\d+\) /, '');
  const headers = run.facts.filter(([key]) => key === 'header').map(([, value]) => value);
  let statusAt = -1;
  headers.forEach((line, i) => {
    if (/^HTTP\/\S+\s+\d{3}/.test(line)) statusAt = i;
  });
  const bodyBytes = factBytes(run, 'body');
  const truncated = bodyBytes.length > BODY_READ_LIMIT;
  if (statusAt === -1) {
    if (rc === 28) return { failure: `no response within ${timeoutSeconds} s` };
    if (rc === 6) return { failure: describeHttpFailure('ENOTFOUND', url, error) };
    if (rc === 7) {
      const cause = `${fact(run, 'cause') ?? ''} ${error}`;
      const code = /refused/i.test(cause) ? 'ECONNREFUSED' : /no route|unreachable/i.test(cause) ? 'EHOSTUNREACH' : '';
      return { failure: describeHttpFailure(code, url, error || 'could not connect') };
    }
    if (rc === 52 || rc === 56) return { failure: describeHttpFailure('ECONNRESET', url, error) };
    if (CURL_CERTIFICATE.has(rc)) return { failure: describeHttpFailure('ERR_TLS_CERT', url, error) };
    return { failure: error || `curl ended with exit code ${Number.isNaN(rc) ? 'unknown' : rc} and no response` };
  }
  const statusLine = /^HTTP\/\S+\s+(\d{3})(?:\s+(.*))?$/.exec(headers[statusAt]!)!;
  const location = headers
    .slice(statusAt + 1)
    .map((line) => /^location:\s*(.*)$/i.exec(line)?.[1]?.trim())
    .find((value) => value !== undefined);
  return {
    status: Number(statusLine[1]),
    statusText: (statusLine[2] ?? '').trim(),
    location: location ?? null,
    body: async () => {
      if (fact(run, 'nobase64') !== undefined) return { error: 'base64 is not installed on the host, so the body could not be sent back' };
      // curl's 23 is its write error once head has taken BODY_READ_LIMIT + 1 bytes: the body was cut there, not lost.
      if (rc !== 0 && !(rc === 23 && truncated)) return { error: error || `curl ended with exit code ${rc}` };
      return { bytes: bodyBytes.subarray(0, BODY_READ_LIMIT), complete: !truncated };
    },
  };
}

/** The facts SYSTEMD_PROGRAM reported: the ActiveState, or why there is none. */
export function unitFromFacts(run: ProgramRun): { state: string; note?: string } | { error: string } {
  const ended = programEnded(run, 'systemctl', LOOK_SECONDS);
  if (ended !== null) return { error: ended };
  const noSystemd = fact(run, 'nosystemd');
  if (noSystemd === 'booted') return { error: SYSTEMD_NOT_BOOTED };
  if (noSystemd !== undefined) return { error: 'systemd is not available on this host (no systemctl on PATH)' };
  const props = Object.fromEntries(
    run.facts
      .filter(([key]) => key === 'prop')
      .map(([, value]) => {
        const eq = value.indexOf('=');
        return [value.slice(0, eq), value.slice(eq + 1)];
      }),
  );
  const state = props.ActiveState;
  if (!state) return { error: `systemctl did not say: ${fact(run, 'error') || 'no output'}` };
  const note = props.LoadState === 'not-found' ? 'no such unit is loaded' : undefined;
  return note ? { state, note } : { state };
}

/** OpenSSH names why it could not open a tunnel in words (strerror, getaddrinfo); these map to the codes the drivers word. */
function tunnelErrorCode(description: string): string | undefined {
  if (/refused/i.test(description)) return 'ECONNREFUSED';
  if (/not known|nodename|getaddrinfo|resolve/i.test(description)) return 'ENOTFOUND';
  if (/no route|unreachable/i.test(description)) return 'EHOSTUNREACH';
  if (/timed out/i.test(description)) return 'ETIMEDOUT';
  return undefined;
}

const CHANNEL_OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

/** A TCP connection from the SSH host to host:port, as a stream here (a `direct-tcpip` channel). */
export function tunnel(session: SshSession, where: string, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    session.client.forwardOut('127.0.0.1', 0, host, port, (err: (Error & { reason?: number | string }) | undefined, stream) => {
      if (!err) return resolve(stream);
      const description = err.message.replace(/^\(SSH\) Channel open failure: /, '');
      if (err.reason === CHANNEL_OPEN_ADMINISTRATIVELY_PROHIBITED) {
        return reject(new Error(`${where} refuses to open tunnels (${description}): allow it with AllowTcpForwarding in its sshd_config`));
      }
      reject(Object.assign(new Error(`${where} could not connect to ${host}:${port}: ${description}`), { code: tunnelErrorCode(description) }));
    });
  });
}

async function databaseQuery(host: SshOperationHost, op: DatabaseQueryOperation, context: OperationContext): Promise<Outcome> {
  const port = op.connection.port ?? (op.engine === 'postgresql' ? 5432 : 3306);
  context.log.line(`through a tunnel from ${host.where}: ${op.connection.host}:${port} is the database as that host sees it`);
  return runDatabaseQuery(op, { ...context, connect: () => tunnel(host.session, host.where, op.connection.host, port) });
}

