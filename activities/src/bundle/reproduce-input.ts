import type { Interpreter, ParamValue, ParamValues } from '@drydock/core/manifest';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { renderCommand } from '@drydock/core/manifest';

/** What `reproduce.sh` and `reproduce.ps1` re-run: the run, where its API is, and its job as the agent received it. */
export interface ReproduceInput {
  run: {
    id: string;
    /** A script runs at `version`; an action at its current revision (the API has no older ones to start). */
    source: 'script' | 'action';
    /** The script's or action's id. */
    entryId: string;
    version: string;
    hostId: string;
  };
  /** Drydock's address for the API mode; `DRYDOCK_URL` overrides it when the script runs. */
  apiUrl: string;
  /** Secret parameters' values are never read: the scripts ask for them by environment variable. */
  job: Pick<AgentScriptJob, 'scriptId' | 'interpreter' | 'commandTemplate' | 'operation' | 'params' | 'secretNames' | 'secretRefs'>;
  /** The script inside the bundle, relative to the reproduce script (`script/deploy.sh`); null for a command template or an operation. */
  scriptFile: string | null;
}

/** The input cannot make a reproduce script (a name or id outside its alphabet): a programming error upstream. */
export class ReproduceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReproduceError';
  }
}

const PARAM_NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Run ids, slugs, versions and host ids: what goes into a comment or a literal unescaped must not break a line. */
const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
const BUNDLE_PATH = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._/ -]{1,500}$/;

/** The interpreters as agent/src/script-runner.ts starts them (`interpreterCommands`), by command name rather than by the agent's own Node binary. */
export const REPRODUCE_INTERPRETERS: Record<'posix' | 'windows', Record<Interpreter, { command: string; args: string[]; extension: string }>> = {
  posix: {
    bash: { command: 'bash', args: [], extension: '.sh' },
    sh: { command: 'sh', args: [], extension: '.sh' },
    python: { command: 'python3', args: [], extension: '.py' },
    powershell: { command: 'pwsh', args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'], extension: '.ps1' },
    node: { command: 'node', args: [], extension: '.mjs' },
  },
  windows: {
    bash: { command: 'bash', args: [], extension: '.sh' },
    sh: { command: 'sh', args: [], extension: '.sh' },
    python: { command: 'python', args: [], extension: '.py' },
    powershell: { command: 'powershell.exe', args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File'], extension: '.ps1' },
    node: { command: 'node', args: [], extension: '.mjs' },
  },
};

/** The agent's text for a value (scriptInvocation's asText): lists joined by commas. */
export function paramText(value: ParamValue): string {
  return Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : String(value);
}

/** What the scripts are made from, checked: the ids they print, the values they carry (secrets left out) and how the job starts locally. */
export interface ReproducePlan {
  input: ReproduceInput;
  /** Non-secret parameters, in the job's order. */
  values: [string, ParamValue][];
  /** Secret parameters' names, which the scripts read from `DRYDOCK_PARAM_<NAME>`. */
  secrets: string[];
  /** The run's variables the agent adds (extraEnv in agent/src/activities.ts), for the first attempt. */
  runVariables: [string, string][];
  /** How `local` starts the job, or why it cannot. */
  local: { kind: 'script'; interpreter: Interpreter; scriptFile: string; argv: string[] } | { kind: 'command'; words: string[] } | { kind: 'none'; reason: string };
  /** The JSON body of `POST /api/v1/runs` before `hostId` and the secrets: `{"scriptId":…,"version":…` */
  bodyHead: string;
  /** The non-secret parameters as JSON members, without braces. */
  paramsJson: string;
}

export function reproducePlan(input: ReproduceInput): ReproducePlan {
  const { run, job } = input;
  for (const [what, id] of [['run id', run.id], ['entry id', run.entryId], ['version', run.version], ['host id', run.hostId]] as const) {
    if (!PLAIN_ID.test(id)) throw new ReproduceError(`the ${what} ${JSON.stringify(id)} is not an id a reproduce script can carry`);
  }
  if (!/^https?:\/\/[\x21-\x7E]+$/.test(input.apiUrl) || /['"`$\\]/.test(input.apiUrl)) throw new ReproduceError(`the API URL ${JSON.stringify(input.apiUrl)} is not an http(s) URL`);
  for (const name of [...Object.keys(job.params), ...job.secretNames]) {
    if (!PARAM_NAME.test(name)) throw new ReproduceError(`parameter ${JSON.stringify(name)} is not a manifest parameter name (lower_snake_case)`);
  }
  if (input.scriptFile !== null && !BUNDLE_PATH.test(input.scriptFile)) throw new ReproduceError(`${JSON.stringify(input.scriptFile)} is not a path inside the bundle`);

  // A secret the run was not given (an optional one) is not asked for.
  // Runs since decision 019 carry their secrets as references, older ones in params.
  const secrets = job.secretNames.filter((name) => Object.hasOwn(job.params, name) || Object.hasOwn(job.secretRefs ?? {}, name));
  const values = Object.entries(job.params).filter(([name]) => !job.secretNames.includes(name));
  const nonSecret: ParamValues = Object.fromEntries(values);
  let local: ReproducePlan['local'];
  if (job.operation) local = { kind: 'none', reason: `run ${run.id} was a host operation (${job.operation.type}), which the agent runs itself: reproduce it through the API` };
  else if (job.commandTemplate !== null) local = { kind: 'command', words: renderCommand(job.commandTemplate, nonSecret) };
  else if (job.interpreter && input.scriptFile) {
    local = { kind: 'script', interpreter: job.interpreter, scriptFile: input.scriptFile, argv: values.map(([name, value]) => `--${name}=${paramText(value)}`) };
  } else local = { kind: 'none', reason: `the bundle of run ${run.id} holds no script to run` };

  const entryKey = run.source === 'script' ? 'scriptId' : 'actionId';
  const head = run.source === 'script' ? { [entryKey]: run.entryId, version: run.version } : { [entryKey]: run.entryId };
  return {
    input,
    values,
    secrets,
    runVariables: [
      ['DRYDOCK_RUN_ID', run.id],
      ['DRYDOCK_SCRIPT_ID', job.scriptId],
      ['DRYDOCK_HOST_ID', run.hostId],
      ['DRYDOCK_ATTEMPT', '1'],
    ],
    local,
    bodyHead: JSON.stringify(head).slice(0, -1),
    paramsJson: JSON.stringify(nonSecret).slice(1, -1),
  };
}
