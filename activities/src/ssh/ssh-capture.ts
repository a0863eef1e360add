import type { Readable } from 'node:stream';
import type { SFTPWrapper, Stats } from 'ssh2';
import { contentTypeOf, maskEnvironment } from '@drydock/core/job-data';
import { type AgentScriptJob, type EnvironmentSnapshot, ENVIRONMENT_SNAPSHOT_NAME, type JobCapture, type PackageFact, type ServiceFact } from '@drydock/core/run-contract';
import { artifactMatchers } from '@drydock/core/artifact-glob';
import { captureBudget, type CaptureBudget, type CentralCaptureOptions, DRYDOCK_VERSION, formatBytes, MAX_ARTIFACT_FILES } from '../central-capture.ts';
export type { CapturedContent, StoreCaptured } from '../central-capture.ts';
import {
  inventoryNameAllowed,
  NO_SERVICE_MANAGER,
  NOT_LOOKED_UP,
  PACKAGE_TOOLS,
  packageFact,
  type PackageTool,
  readApkLookup,
  readDpkg,
  readRpm,
  REFUSED_NAME,
  serviceFact,
  type ToolAnswer,
} from '../operations/inventory-answers.ts';
import { REMOVE_WORK_DIR_PROGRAM, SNAPSHOT_PROGRAM } from './operation-programs.ts';
import { type ProgramRun, runRemoteProgram } from './ssh-operations.ts';
import { INTERPRETER_COMMAND, type SshSession } from './ssh-transport.ts';


/** A walk of the work directory looks at no more entries than this, so a huge tree cannot hold the attempt. */
export const MAX_WALK_ENTRIES = 10_000;
const SNAPSHOT_SECONDS = 30;

/** uname -m as Node's os.arch() says it, so a snapshot reads alike from an agent and over SSH. */
const ARCH: Record<string, string> = {
  x86_64: 'x64',
  amd64: 'x64',
  aarch64: 'arm64',
  arm64: 'arm64',
  armv7l: 'arm',
  armv6l: 'arm',
  i686: 'ia32',
  i386: 'ia32',
  ppc64le: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
};
/** uname -s as Node's process.platform says it. */
const PLATFORM: Record<string, string> = { Linux: 'linux', Darwin: 'darwin', FreeBSD: 'freebsd', OpenBSD: 'openbsd', SunOS: 'sunos', AIX: 'aix' };
/** The shell's own variables, which the snapshot program's environment has and the script's did not. */
const SHELL_OWN = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);

function fact(run: ProgramRun, key: string): string | undefined {
  return run.facts.find(([k]) => k === key)?.[1];
}

function factsOf(run: ProgramRun, key: string): string[] {
  return run.facts.filter(([k]) => k === key).map(([, v]) => v);
}

/** The login session's variables the snapshot program saw, less its own inputs and the shell's bookkeeping. */
function loginEnvironment(run: ProgramRun): Record<string, string> {
  const pairs = factsOf(run, 'env0').length > 0 ? Buffer.from(factsOf(run, 'env0').join(''), 'base64').toString('utf8').split('\0') : factsOf(run, 'env');
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(pair);
    if (!match || match[1]!.startsWith('DRYDOCK_OP_') || SHELL_OWN.has(match[1]!)) continue;
    env[match[1]!] = match[2]!;
  }
  return env;
}

/** The names SNAPSHOT_PROGRAM looks up, as DRYDOCK_OP_PACKAGE_<i> and DRYDOCK_OP_SERVICE_<i>; a name the schema would refuse is not sent. */
export function inventoryEnv(capture: Pick<JobCapture, 'packages' | 'services'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [prefix, names] of [['PACKAGE', capture.packages ?? []], ['SERVICE', capture.services ?? []]] as const) {
    const sent = names.filter(inventoryNameAllowed);
    env[`DRYDOCK_OP_${prefix}S`] = String(sent.length);
    sent.forEach((name, i) => (env[`DRYDOCK_OP_${prefix}_${i}`] = name));
  }
  return env;
}

/** What each tool said about sent name `i`, from `<kind>-out|err|rc <i> <tool> <value>` facts. */
function toolAnswers(run: ProgramRun, kind: 'pkg' | 'svc'): Map<string, ToolAnswer> {
  const answers = new Map<string, ToolAnswer>();
  for (const [key, value] of run.facts) {
    const stream = key === `${kind}-out` ? 'stdout' : key === `${kind}-err` ? 'stderr' : key === `${kind}-rc` ? 'rc' : null;
    if (stream === null) continue;
    const match = /^(\d+) (\S+)(?: (.*))?$/s.exec(value);
    if (!match) continue;
    const id = `${match[1]} ${match[2]}`;
    const answer = answers.get(id) ?? { code: null, stdout: [], stderr: [], timedOut: false };
    const rest = match[3] ?? '';
    if (stream === 'rc') {
      answer.code = Number(rest);
      // timeout(1) exits 124 when it had to stop the tool.
      answer.timedOut = answer.code === 124;
    } else answer[stream].push(rest);
    answers.set(id, answer);
  }
  return answers;
}

/** The packages and services SNAPSHOT_PROGRAM looked up, judged as the agent judges them, in the order the manifest names them. */
export function inventoryFromFacts(run: ProgramRun, capture: Pick<JobCapture, 'packages' | 'services'>): { packages: PackageFact[]; services: ServiceFact[] } {
  const late = (kind: 'pkg' | 'svc', i: number) => run.facts.some(([key, value]) => key === `${kind}-late` && value === String(i));
  const pkgs = toolAnswers(run, 'pkg');
  const tools = (fact(run, 'pkg-tools') ?? '').split(/\s+/).filter((t): t is PackageTool => (PACKAGE_TOOLS as readonly string[]).includes(t));
  let sentPackage = 0;
  const packages = (capture.packages ?? []).map((name): PackageFact => {
    if (!inventoryNameAllowed(name)) return { name, version: null, source: null, error: REFUSED_NAME };
    const i = sentPackage++;
    if (late('pkg', i)) return { name, version: null, source: null, error: NOT_LOOKED_UP };
    const answers = tools.map((tool) => {
      const answer = pkgs.get(`${i} ${tool}`) ?? { code: null, stdout: [], stderr: ['the host sent no answer'], timedOut: false };
      return { tool, answer: tool === 'dpkg' ? readDpkg(name, answer) : tool === 'rpm' ? readRpm(answer) : readApkLookup(name, answer) };
    });
    return packageFact(name, answers);
  });
  const svcs = toolAnswers(run, 'svc');
  const manager = fact(run, 'svc-manager');
  let sentService = 0;
  const services = (capture.services ?? []).map((name): ServiceFact => {
    if (!inventoryNameAllowed(name)) return { name, state: null, manager: null, error: REFUSED_NAME };
    const i = sentService++;
    if (manager !== 'systemd' && manager !== 'openrc') return { name, state: null, manager: null, error: NO_SERVICE_MANAGER };
    if (late('svc', i)) return { name, state: null, manager, error: NOT_LOOKED_UP };
    return serviceFact(name, manager, svcs.get(`${i} ${manager}`) ?? { code: null, stdout: [], stderr: ['the host sent no answer'], timedOut: false });
  });
  return { packages, services };
}

/**
 * The agent's EnvironmentSnapshot, from what SNAPSHOT_PROGRAM reported on the host. `agent` names this worker
 * (Drydock and Node), which took the snapshot; `environment` is the login session's variables with the job's
 * DRYDOCK_* over them, as the script had them, masked as the agent masks them.
 */
export function snapshotFromFacts(run: ProgramRun, job: AgentScriptJob, scriptEnv: Record<string, string>, diskPath: string | null, capture: Pick<JobCapture, 'packages' | 'services'> = {}): EnvironmentSnapshot {
  const distribution: Record<string, string> = {};
  for (const line of factsOf(run, 'os-release')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) distribution[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  const kernel = fact(run, 'kernel-name') ?? '';
  const machine = fact(run, 'machine') ?? '';
  const load = (fact(run, 'loadavg') ?? '').split(/\s+/).map(Number);
  const memory: Record<string, number> = {};
  for (const line of factsOf(run, 'meminfo')) {
    const match = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (match) memory[match[1]!] = Math.round(Number(match[2]) / 1024);
  }
  const df = /^.*?\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+.*$/.exec(fact(run, 'df') ?? '');
  const interpreter = job.interpreter !== null && Object.hasOwn(INTERPRETER_COMMAND, job.interpreter) ? INTERPRETER_COMMAND[job.interpreter] : null;
  const version = fact(run, 'interpreter')?.trim();
  const number = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n : 0);
  return {
    capturedAt: new Date().toISOString(),
    host: {
      hostname: fact(run, 'hostname') ?? '',
      os: {
        type: kernel,
        platform: PLATFORM[kernel] ?? kernel.toLowerCase(),
        release: fact(run, 'kernel-release') ?? '',
        version: fact(run, 'kernel-version') ?? '',
        arch: ARCH[machine] ?? machine,
        machine,
      },
      distribution: Object.keys(distribution).length > 0 ? distribution : null,
      uptimeSeconds: Math.round(number(Number((fact(run, 'uptime') ?? '').split(/\s+/)[0]))),
      loadAverage: [number(load[0]), number(load[1]), number(load[2])],
      cpus: { count: number(Number(fact(run, 'cpus'))), model: fact(run, 'cpu-model') || null },
      memory: { totalMb: memory.MemTotal ?? 0, freeMb: memory.MemAvailable ?? memory.MemFree ?? 0 },
    },
    disk:
      df && diskPath !== null
        ? { path: diskPath, totalMb: Math.round(Number(df[1]) / 1024), freeMb: Math.round(Number(df[3]) / 1024), usedMb: Math.round(Number(df[2]) / 1024) }
        : null,
    interpreter: interpreter ? { name: job.interpreter!, command: interpreter.command, version: version ? version.slice(0, 200) : null } : null,
    environment: maskEnvironment(job, { ...loginEnvironment(run), ...scriptEnv }),
    agent: { version: DRYDOCK_VERSION, node: process.version },
    ...inventoryFromFacts(run, capture),
  };
}

function sftpOf(session: SshSession): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => session.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

function call<T>(fn: (cb: (err: Error | undefined | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

/**
 * Every entry below `root` that is not a directory (symlinks included, never followed: one may lead anywhere on
 * the host), as paths relative to `root` with `/` separators.
 */
async function walk(sftp: SFTPWrapper, root: string, log: (line: string) => void): Promise<{ names: Map<string, Stats>; complete: boolean }> {
  const names = new Map<string, Stats>();
  const pending = [''];
  let seen = 0;
  while (pending.length > 0) {
    const dir = pending.shift()!;
    const entries = await call<{ filename: string; attrs: Stats }[]>((cb) => sftp.readdir(dir === '' ? root : `${root}/${dir}`, cb)).catch(() => []);
    for (const entry of entries) {
      if (entry.filename === '.' || entry.filename === '..') continue;
      if (++seen > MAX_WALK_ENTRIES) {
        log(`the run's work directory holds more than ${MAX_WALK_ENTRIES} entries; only the first ${MAX_WALK_ENTRIES} were looked at`);
        return { names, complete: false };
      }
      const name = dir === '' ? entry.filename : `${dir}/${entry.filename}`;
      if (entry.attrs.isDirectory()) pending.push(name);
      else names.set(name, entry.attrs);
    }
  }
  return { names, complete: true };
}

/** Reads a remote file, giving up as soon as it passes `max` bytes (it grew since it was measured). */
async function readCapped(sftp: SFTPWrapper, path: string, max: number): Promise<Buffer | null> {
  const stream = sftp.createReadStream(path) as unknown as Readable;
  // The remote handle is closed after the last chunk; that answer must arrive before the SFTP channel ends.
  const closed = new Promise((resolve) => stream.once('close', resolve));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > max) return null;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } finally {
    stream.on('error', () => {});
    stream.destroy();
    await closed;
  }
}

export interface SshCaptureOptions extends CentralCaptureOptions {
  session: SshSession;
  where: string;
  /** The script's work directory, kept on the host for capture; null for a host operation, which has none. */
  workDir: string | null;
}

/**
 * Takes what the manifest asks for after an attempt on an SSH host: the environment snapshot, gathered on the
 * host by a fixed program, then the files the globs match in the script's work directory, fetched over SFTP,
 * with the agent's checks (no path out of the directory, symlinks included; regular files only; the per-file
 * and per-run limits) and its log lines. Reports by log lines; never throws for a file it could not keep.
 */
export async function captureOverSsh(o: SshCaptureOptions): Promise<void> {
  const { log } = o;
  const budget = captureBudget(o.limits, log);
  if (o.capture.environment_snapshot) {
    await snapshot(o, budget);
  }
  if (o.capture.artifacts.length > 0) {
    if (o.workDir === null) log('no artifacts captured: a host operation has no work directory to take files from');
    else await artifacts(o, o.workDir, budget);
  }
  budget.summary(o.attempt);
}

async function snapshot(o: SshCaptureOptions, budget: CaptureBudget): Promise<void> {
  const interpreter = o.job.interpreter !== null && Object.hasOwn(INTERPRETER_COMMAND, o.job.interpreter) ? INTERPRETER_COMMAND[o.job.interpreter].command : '';
  let run: ProgramRun;
  try {
    run = await runRemoteProgram(
      o.session,
      o.where,
      {
        program: SNAPSHOT_PROGRAM,
        env: { DRYDOCK_OP_DISK: o.workDir ?? '', DRYDOCK_OP_INTERPRETER: o.job.commandTemplate === null ? interpreter : '', ...inventoryEnv(o.capture) },
        timeoutSeconds: SNAPSHOT_SECONDS,
        what: 'the environment snapshot',
      },
      o.signal,
    );
  } catch (err) {
    o.log(`environment snapshot not captured: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (run.exit.cancelled || run.exit.timedOut) {
    o.log(`environment snapshot not captured: ${run.exit.cancelled ? 'capture was stopped' : `the host gave no answer within ${SNAPSHOT_SECONDS} s`}`);
    return;
  }
  const content = new TextEncoder().encode(`${JSON.stringify(snapshotFromFacts(run, o.job, o.scriptEnv, o.workDir, o.capture), null, 2)}\n`);
  if (!budget.admits(content.byteLength, 'environment snapshot')) return;
  await budget.store('environment snapshot', () => o.store({ name: ENVIRONMENT_SNAPSHOT_NAME, kind: 'environment', contentType: 'application/json', content }));
}

async function artifacts(o: SshCaptureOptions, workDir: string, budget: CaptureBudget): Promise<void> {
  const { log } = o;
  let sftp: SFTPWrapper;
  try {
    sftp = await sftpOf(o.session);
  } catch (err) {
    log(`no artifacts captured: ${o.where} offers no SFTP (${err instanceof Error ? err.message : String(err)}); enable the sftp subsystem in its sshd_config`);
    return;
  }
  try {
    const root = await call<string>((cb) => sftp.realpath(workDir, cb));
    const { names } = await walk(sftp, root, log);
    const chosen = new Set<string>();
    let truncated = false;
    for (const { glob: pattern, matches } of artifactMatchers(o.capture.artifacts, log)) {
      let matched = 0;
      for (const name of names.keys()) {
        if (!matches(name)) continue;
        matched++;
        if (chosen.size >= MAX_ARTIFACT_FILES && !chosen.has(name)) {
          truncated = true;
          break;
        }
        chosen.add(name);
      }
      if (matched === 0) log(`artifact glob ${pattern} matched no file`);
    }
    if (truncated) log(`the artifact globs match more than ${MAX_ARTIFACT_FILES} files; only the first ${MAX_ARTIFACT_FILES} are considered`);

    for (const name of [...chosen].sort()) {
      if (o.signal.aborted) {
        log(`capture stopped before ${name}: ${o.signal.reason instanceof Error ? o.signal.reason.message : String(o.signal.reason)}`);
        break;
      }
      if (name === ENVIRONMENT_SNAPSHOT_NAME) {
        log(`artifact ${name} not captured: the name is reserved for the environment snapshot`);
        continue;
      }
      const what = `artifact ${name}`;
      let file = `${root}/${name}`;
      if (names.get(name)!.isSymbolicLink()) {
        // The server resolves every link on the way (realpath(3)), so the check is on where the bytes really are.
        const real = await call<string>((cb) => sftp.realpath(file, cb)).catch(() => null);
        if (real === null) {
          log(`${what} not captured: it is a symlink to nothing`);
          continue;
        }
        if (!isInside(root, real) || real === root) {
          log(`${what} not captured: it leads outside the run's work directory (a symlink to ${real})`);
          continue;
        }
        file = real;
      }
      const info = await call<Stats>((cb) => sftp.stat(file, cb)).catch(() => null);
      if (info === null) {
        log(`${what} not captured: it is a symlink to nothing`);
        continue;
      }
      if (info.isDirectory()) continue;
      if (!info.isFile()) {
        log(`${what} not captured: it is not a regular file`);
        continue;
      }
      if (!budget.admits(info.size, what)) continue;
      const room = budget.room();
      await budget.store(what, async () => {
        const content = await readCapped(sftp, file, room);
        if (content === null) throw new Error(`it grew past ${formatBytes(room)} while it was read, over ${room === o.limits.maxFileBytes ? 'the per-file limit (DRYDOCK_ARTIFACT_MAX_FILE_MB)' : "what is left of the per-run limit (DRYDOCK_ARTIFACT_MAX_RUN_MB)"}`);
        return o.store({ name, kind: 'artifact', contentType: contentTypeOf(name), content });
      });
    }
  } catch (err) {
    log(`capture failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    sftp.end();
  }
}

/** Removes the work directory the wrapper kept for capture; a failure is a log line (the host's /tmp cleaner gets it). */
export async function removeWorkDir(session: SshSession, where: string, workDir: string, log: (line: string) => void): Promise<void> {
  try {
    const run = await runRemoteProgram(session, where, { program: REMOVE_WORK_DIR_PROGRAM, env: { DRYDOCK_OP_DIR: workDir }, timeoutSeconds: SNAPSHOT_SECONDS, what: 'the clean-up' }, AbortSignal.timeout(SNAPSHOT_SECONDS * 1000));
    if (!run.facts.some(([key]) => key === 'removed')) log(`could not remove the run's work directory ${workDir} on ${where}; remove it by hand`);
  } catch (err) {
    log(`could not remove the run's work directory ${workDir} on ${where} (${err instanceof Error ? err.message : String(err)}); remove it by hand`);
  }
}

