import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { evaluateString, segments } from '../../../agent/src/windows/powershell-tokens.test-support.ts';
import { interpreterCommands, scriptEnvironment, scriptInvocation } from '../../../agent/src/script-runner.ts';
import { REPRODUCE_INTERPRETERS, ReproduceError, type ReproduceInput } from './reproduce-input.ts';
import { reproducePowerShellScript } from './reproduce-ps1.ts';
import { reproduceShellScript } from './reproduce-sh.ts';
import { windowsCommandLine } from './windows-command-line.ts';

const HOSTILE = {
  quotes: `it's "quoted" and 'twice'`,
  substitution: '$(touch /tmp/drydock-pwned) `id` ${HOME} $HOME',
  lines: 'line one\nline two\r\nline three\n',
  percent: '100% %s %n %% %1',
  powershell: 'back`tick `n `$ $env:PATH $(Get-Date) @(1) @{a=1}; Remove-Item x',
  smart: 'smart \u2018quotes\u2019 \u201Cdouble\u201D and ünïcödé \u{1F680}',
  dashes: '--count=99',
  glob: '* ? [a-z] ~ ~root',
  backslashes: 'C:\\path with space\\ends\\',
  quote_after_backslashes: 'a\\\\"b\\"',
  empty: '',
  spaces: '  lead and trail  ',
  semicolon: 'a; rm -rf / & echo | cat > x',
};
const SECRET = `s3cr'et $(x) \`y\` \n"two" \\ %s € ’`;
const SECRET_IN_JOB = 'the-secret-as-the-job-carried-it';

function job(overrides: Partial<AgentScriptJob> = {}): AgentScriptJob {
  return {
    runId: '0195f3c2-7d1e-7aaa-8bbb-0123456789ab',
    scriptId: 'echo-params',
    interpreter: 'sh',
    scriptPath: 'scripts/echo-params.sh',
    commandTemplate: null,
    operation: null,
    params: { ...HOSTILE, count: 42, dry_run: true, hosts: ['web-1', 'web-2'], token: SECRET_IN_JOB },
    secretNames: ['token'],
    timeoutSeconds: 60,
    successCriteria: {} as AgentScriptJob['successCriteria'],
    ...overrides,
  };
}

function input(j: AgentScriptJob, apiUrl: string): ReproduceInput {
  return {
    run: { id: j.runId, source: 'script', entryId: j.scriptId, version: '3f2a9c1e0b7d', hostId: 'web-1' },
    apiUrl,
    job: j,
    scriptFile: 'script/echo-params.sh',
  };
}

/** The run's variables, as the agent's activities add them (extraEnv in agent/src/activities.ts). */
function runVariables(j: AgentScriptJob): Record<string, string> {
  return { DRYDOCK_RUN_ID: j.runId, DRYDOCK_SCRIPT_ID: j.scriptId, DRYDOCK_HOST_ID: 'web-1', DRYDOCK_ATTEMPT: '1' };
}

/** Prints its argc, argv and whole environment, NUL-separated: what the script was given, byte for byte. */
const ECHO_SCRIPT = `#!/bin/sh\nprintf '%s\\0' "$#" "$@"\nenv -0\n`;

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { ...options, encoding: 'utf8', maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** reproduce.sh keeps the directory it ran in, for a person to look at; the tests do not. */
async function removeWorkDir(stderr: string): Promise<void> {
  const dir = /^reproduce\.sh: running in (\/tmp\/drydock-reproduce\.\w+)$/m.exec(stderr)?.[1];
  if (dir) await rm(dir, { recursive: true, force: true });
}

function parseEcho(stdout: string): { argv: string[]; env: Record<string, string> } {
  const fields = stdout.split('\0');
  fields.pop();
  const count = Number(fields[0]);
  const argv = fields.slice(1, 1 + count);
  const env = Object.fromEntries(fields.slice(1 + count).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return { argv, env };
}

let dir: string;
let server: Server;
let api: string;
let received: { body: string; headers: IncomingHttpHeaders }[] = [];
let answer: { status: number; body: string } = { status: 201, body: '{"id":"0195f3c2-new"}' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reproduce-'));
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(req.method === 'POST' && req.url === '/api/v1/runs' ? answer.status : 404, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A bundle directory with the script and reproduce.sh; `awk` on PATH is the one asked for. */
async function bundle(name: string, j: AgentScriptJob, awk = '/usr/bin/gawk') {
  const root = join(dir, name);
  await mkdir(join(root, 'script'), { recursive: true });
  await writeFile(join(root, 'script/echo-params.sh'), ECHO_SCRIPT);
  await writeFile(join(root, 'reproduce.sh'), reproduceShellScript(input(j, api)), { mode: 0o755 });
  const bin = join(root, 'bin');
  await mkdir(bin);
  if (awk.endsWith('busybox')) await writeFile(join(bin, 'awk'), `#!/bin/sh\nexec ${awk} awk "$@"\n`, { mode: 0o755 });
  else await symlink(awk, join(bin, 'awk'));
  // curl that records its command line, to show no secret is ever on it.
  await writeFile(join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\0' "$@" >> "$CURL_ARGV_LOG"\nexec /usr/bin/curl "$@"\n`);
  await chmod(join(bin, 'curl'), 0o755);
  return { root, path: `${bin}:/usr/bin:/bin` };
}

const SHELLS: [string, string[]][] = [
  ['dash', ['/bin/sh']],
  ['bash', ['/bin/bash']],
  ['busybox ash', ['/usr/bin/busybox', 'sh']],
];

describe('reproduce.sh', () => {
  test.each(SHELLS)('local under %s: the script gets the argv and environment the agent gives it, hostile values verbatim', async (_name, shell) => {
    const j = job();
    const { root, path } = await bundle(`local-${_name.replace(' ', '-')}`, j);
    const base = { PATH: path, HOME: '/home/someone', LANG: 'C.UTF-8', DRYDOCK_PARAM_TOKEN: SECRET, LEAKED_FROM_THE_SHELL: 'not passed', keep: 'a name the script uses', work: 'another' };
    const result = await run(shell[0]!, [...shell.slice(1), join(root, 'reproduce.sh'), 'local'], { cwd: dir, env: base });
    expect(result.stderr).toMatch(/^reproduce\.sh: running in \/tmp\/drydock-reproduce\.\w+\n$/);
    expect(result.code).toBe(0);
    const seen = parseEcho(result.stdout);
    const workDir = /running in (\S+)/.exec(result.stderr)![1]!;
    onTestFinished(() => removeWorkDir(result.stderr));

    // The agent's own functions say what it would start: the same argv and the same variables.
    const agent = scriptInvocation({ ...j, params: { ...j.params, token: SECRET } }, `${workDir}/script.sh`, base, runVariables(j), 'linux');
    expect(agent.argv).toContain('--quotes=it\'s "quoted" and \'twice\'');
    expect(seen.argv).toEqual(agent.argv.slice(1));
    // What the shell itself exports (its working directory, its depth) is not the agent's.
    const env = Object.fromEntries(Object.entries(seen.env).filter(([name]) => !['PWD', 'OLDPWD', 'SHLVL', '_'].includes(name)));
    expect(env).toEqual(agent.env);
    expect(env.DRYDOCK_PARAM_TOKEN).toBe(SECRET);
    expect(env.DRYDOCK_PARAM_LINES).toBe(HOSTILE.lines);
    expect(env.DRYDOCK_PARAM_HOSTS).toBe('web-1,web-2');
  });

  test.each(SHELLS)('api under %s: the same version and parameters are posted for the chosen host, secrets from the environment', async (_name, shell) => {
    for (const awk of ['/usr/bin/gawk', '/usr/bin/mawk', '/usr/bin/busybox']) {
      const j = job();
      const { root, path } = await bundle(`api-${_name.replace(' ', '-')}-${awk.split('/').pop()}`, j, awk);
      const log = join(root, 'curl-argv');
      received = [];
      const result = await run(shell[0]!, [...shell.slice(1), join(root, 'reproduce.sh'), 'api', 'web-7'], {
        env: { PATH: path, DRYDOCK_PARAM_TOKEN: SECRET, DRYDOCK_TOKEN: 'ddu_user-token-123', CURL_ARGV_LOG: log },
      });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('{"id":"0195f3c2-new"}\n');
      expect(received).toHaveLength(1);
      expect(JSON.parse(received[0]!.body)).toEqual({
        scriptId: 'echo-params',
        version: '3f2a9c1e0b7d',
        hostId: 'web-7',
        params: { ...HOSTILE, count: 42, dry_run: true, hosts: ['web-1', 'web-2'], token: SECRET },
      });
      expect(received[0]!.headers.authorization).toBe('Bearer ddu_user-token-123');
      const argv = await readFile(log, 'utf8');
      expect(argv).toContain(`${api}/api/v1/runs`);
      expect(argv).not.toContain('ddu_user-token-123');
      expect(argv).not.toContain('s3cr');
    }
  });

  test('api says what Drydock answered when it refuses, and sends no Authorization header without DRYDOCK_TOKEN', async () => {
    const { root, path } = await bundle('api-refused', job());
    received = [];
    answer = { status: 400, body: '{"error":"host web-7 lacks the tags this script needs: db"}' };
    try {
      const result = await run('/bin/sh', [join(root, 'reproduce.sh'), 'api', 'web-7'], { env: { PATH: path, DRYDOCK_PARAM_TOKEN: 'x', CURL_ARGV_LOG: '/dev/null', DRYDOCK_URL: `${api}/` } });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`reproduce.sh: Drydock at ${api} answered HTTP 400: {"error":"host web-7 lacks the tags this script needs: db"}\n`);
      expect(received[0]!.headers.authorization).toBeUndefined();
    } finally {
      answer = { status: 201, body: '{"id":"0195f3c2-new"}' };
    }
  });

  test('stops before doing anything when a secret is not set, naming the variable; the bundle never holds the value', async () => {
    const j = job();
    const { root, path } = await bundle('no-secret', j);
    const script = await readFile(join(root, 'reproduce.sh'), 'utf8');
    expect(script).not.toContain(SECRET_IN_JOB);
    received = [];
    for (const mode of [['local'], ['api']]) {
      const result = await run('/bin/sh', [join(root, 'reproduce.sh'), ...mode], { env: { PATH: path, CURL_ARGV_LOG: '/dev/null' } });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('reproduce.sh: the bundle holds no secret values; set these variables first: DRYDOCK_PARAM_TOKEN\n');
      expect(result.stdout).toBe('');
    }
    expect(received).toEqual([]);
    // Set but empty is a value the run may have had.
    const empty = await run('/bin/sh', [join(root, 'reproduce.sh'), 'local'], { env: { PATH: path, DRYDOCK_PARAM_TOKEN: '' } });
    expect(empty.code).toBe(0);
    await removeWorkDir(empty.stderr);
  });

  test('without a mode it prints how to use it', async () => {
    const { root, path } = await bundle('usage', job());
    const result = await run('/bin/sh', [join(root, 'reproduce.sh')], { env: { PATH: path } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('sh reproduce.sh api [HOST]   starts it through the Drydock API on HOST');
    expect(result.stderr).toContain('export DRYDOCK_PARAM_TOKEN first');
  });

  test('a command template runs as the words it renders to; a host operation only through the API', async () => {
    const template = job({ interpreter: null, commandTemplate: 'printf %s|%s|%s {{quotes}} {{substitution}} {{count}}', params: { quotes: HOSTILE.quotes, substitution: HOSTILE.substitution, count: 3 }, secretNames: [] });
    const root = join(dir, 'template');
    await mkdir(root);
    await writeFile(join(root, 'reproduce.sh'), reproduceShellScript({ ...input(template, api), scriptFile: null }));
    const result = await run('/bin/sh', [join(root, 'reproduce.sh'), 'local'], { env: { PATH: '/usr/bin:/bin' } });
    expect(result.stdout).toBe(`${HOSTILE.quotes}|${HOSTILE.substitution}|3`);
    await removeWorkDir(result.stderr);

    const operation = job({ interpreter: null, operation: { type: 'shell_command' } as AgentScriptJob['operation'], secretNames: [] });
    await writeFile(join(root, 'operation.sh'), reproduceShellScript({ ...input(operation, api), scriptFile: null }));
    const refused = await run('/bin/sh', [join(root, 'operation.sh'), 'local'], { env: { PATH: '/usr/bin:/bin' } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`reproduce.sh: run ${operation.runId} was a host operation (shell_command), which the agent runs itself: reproduce it through the API\n`);
  });

  test('refuses input it cannot carry safely', () => {
    expect(() => reproduceShellScript({ ...input(job(), api), run: { ...input(job(), api).run, hostId: 'web-1\nrm -rf /' } })).toThrow(ReproduceError);
    expect(() => reproduceShellScript(input(job({ params: { 'bad-name': 'x' }, secretNames: [] }), api))).toThrow('parameter "bad-name" is not a manifest parameter name');
    expect(() => reproduceShellScript({ ...input(job(), api), scriptFile: '../etc/passwd' })).toThrow(ReproduceError);
    expect(() => reproduceShellScript(input(job(), "http://x/'$(id)'"))).toThrow(ReproduceError);
  });

  test('the interpreters are the ones the agent starts', () => {
    for (const [platform, table] of [['linux', REPRODUCE_INTERPRETERS.posix], ['win32', REPRODUCE_INTERPRETERS.windows]] as const) {
      const agent = interpreterCommands(platform);
      for (const [name, mine] of Object.entries(table)) {
        const theirs = agent[name as keyof typeof agent];
        expect({ ...mine, command: name === 'node' ? theirs.command : mine.command }).toEqual({ command: theirs.command, args: theirs.args, extension: theirs.extension });
      }
    }
  });
});

/**
 * How a Windows program splits its command line (Microsoft's "Parsing C++ command-line arguments", the rules of
 * CommandLineToArgvW since 2008): the model the quoting is checked against, since no Windows runs here.
 */
function commandLineToArgv(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) return args;
    let arg = '';
    let quoted = false;
    while (i < line.length && (quoted || (line[i] !== ' ' && line[i] !== '\t'))) {
      if (line[i] === '\\') {
        let n = 0;
        while (line[i] === '\\') {
          n++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += '\\'.repeat(n);
        }
      } else if (line[i] === '"') {
        if (quoted && line[i + 1] === '"') {
          arg += '"';
          i += 2;
        } else {
          quoted = !quoted;
          i++;
        }
      } else {
        arg += line[i];
        i++;
      }
    }
    args.push(arg);
  }
}

/** `$Name = <expr>` and `'key' = <expr>` lines of the script, evaluated by the PowerShell tokenizer model. */
function assignments(script: string): { variables: Map<string, string[]>; entries: Map<string, Map<string, string>> } {
  const variables = new Map<string, string[]>();
  const entries = new Map<string, Map<string, string>>();
  let table: Map<string, string> | undefined;
  for (const line of script.split('\r\n')) {
    const open = /^\$(\w+) = \[ordered\]@\{$/.exec(line);
    if (open) {
      table = new Map();
      entries.set(open[1]!, table);
      continue;
    }
    if (line === '}') table = undefined;
    const entry = /^ {2}('(?:[^']|'')*') = (.+)$/.exec(line);
    if (table && entry) {
      const literal = (expr: string) => {
        try {
          return evaluateString(expr);
        } catch (err) {
          return `<not one string: ${(err as Error).message}>`;
        }
      };
      table.set(literal(entry[1]!), literal(entry[2]!));
    }
    const variable = /^\s*\$(\w+) = ((?:'|\(''|\().*)$/.exec(line);
    if (variable && !variable[2]!.startsWith('(ConvertTo') && !variable[2]!.startsWith('($')) {
      try {
        const value = evaluateString(variable[2]!);
        variables.set(variable[1]!, [...(variables.get(variable[1]!) ?? []), value]);
      } catch {
        // an expression of the script's own, not a rendered value
      }
    }
  }
  return { variables, entries };
}

describe('reproduce.ps1', () => {
  const j = job();
  const script = reproducePowerShellScript(input(j, 'https://drydock.example.test'));
  const variables = new Map<string, string[]>();
  const entries = new Map<string, Map<string, string>>();
  beforeAll(() => {
    const parsed = assignments(script);
    for (const [k, v] of parsed.variables) variables.set(k, v);
    for (const [k, v] of parsed.entries) entries.set(k, v);
  });

  test('reads, as PowerShell tokenizes it, as plain ASCII in which every value is one single-quoted string', () => {
    expect(script).toMatch(/^[\x20-\x7E\r\n]*$/);
    expect(() => segments(script)).not.toThrow();
    expect(script).not.toContain(SECRET_IN_JOB);
    // Hostile text may only be inside single-quoted literals: the code around them is the same as for plain values.
    const plain = reproducePowerShellScript(input(job({ params: Object.fromEntries(Object.keys(j.params).map((k) => [k, 'x'])) }), 'https://drydock.example.test'));
    const skeleton = (text: string) =>
      segments(text)
        .filter((s) => s.kind !== 'single')
        .map((s) => s.text.replace(/\[char\]0x[0-9A-F]{4}|\+|\(|\)|\s/g, ''))
        .join('');
    expect(skeleton(script)).toBe(skeleton(plain));
  });

  test('the environment it sets is the agent\'s: run variables and every non-secret parameter, verbatim', () => {
    const agent = scriptEnvironment(j, runVariables(j), {}, 'win32');
    const expected = Object.fromEntries(Object.entries(agent).filter(([k]) => k !== 'DRYDOCK_PARAM_TOKEN'));
    expect(Object.fromEntries([...entries.get('RunVariables')!, ...entries.get('Parameters')!])).toEqual(expected);
    expect(entries.get('Parameters')!.get('DRYDOCK_PARAM_LINES')).toBe(HOSTILE.lines);
    expect(script).toContain("$Secrets = @('DRYDOCK_PARAM_TOKEN')");
  });

  test('on Windows the command line splits back into the argv a Windows agent passes', () => {
    const [windowsHead = '', posixHead] = variables.get('head')!;
    const [windowsTail = ''] = variables.get('tail')!;
    const file = 'C:\\Users\\Some One\\AppData\\Local\\Temp\\drydock-reproduce-1\\script.sh';
    const line = `${windowsHead} "${file}" ${windowsTail}`.trim();
    const agent = scriptInvocation(j, file, {}, {}, 'win32');
    expect(commandLineToArgv(line)).toEqual(agent.argv);
    expect(agent.argv).toContain(`--backslashes=${HOSTILE.backslashes}`);
    expect(posixHead).toBe('');
    expect(variables.get('FileName')).toBeUndefined();
    expect(script).toContain("$psi.FileName = 'sh'");
  });

  test('PowerShell itself runs with the arguments Windows PowerShell needs for an unsigned script', () => {
    const ps = reproducePowerShellScript(input(job({ interpreter: 'powershell' }), 'https://drydock.example.test'));
    const [head = ''] = assignments(ps).variables.get('head')!;
    expect(commandLineToArgv(head)).toEqual(interpreterCommands('win32').powershell.args);
    expect(ps).toContain("$psi.FileName = 'powershell.exe'");
    expect(ps).toContain("$scriptFile = Join-Path $work 'script.ps1'");
  });

  test('the API body, joined as the script joins it, is the run with the chosen host and the secret from the environment', () => {
    const [head = ''] = variables.get('BodyHead')!;
    const [params = ''] = variables.get('BodyParams')!;
    const members = [...entries.get('SecretMembers')!];
    expect(members.map(([v]) => v)).toEqual(['DRYDOCK_PARAM_TOKEN']);
    const body = `${head}${JSON.stringify('web-7')}${params}${members.map(([, m]) => `${m}${JSON.stringify(SECRET)}`).join('')}}}`;
    expect(JSON.parse(body)).toEqual({
      scriptId: 'echo-params',
      version: '3f2a9c1e0b7d',
      hostId: 'web-7',
      params: { ...HOSTILE, count: 42, dry_run: true, hosts: ['web-1', 'web-2'], token: SECRET },
    });
  });

  test('windowsCommandLine quotes every hostile value so it splits back whole', () => {
    const values = [...Object.values(HOSTILE), 'a"b', '\\"', 'ends with \\', '\\\\server\\share', '"', '\t', 'x\\'];
    expect(commandLineToArgv(windowsCommandLine(values))).toEqual(values);
  });
});
