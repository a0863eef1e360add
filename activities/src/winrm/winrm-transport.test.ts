import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test as baseTest } from 'vitest';
import { freePort } from '@drydock/core';
import type { ParamValues } from '@drydock/core/manifest';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { WRAPPER_ARGUMENTS, WRAPPER_COMMAND } from './powershell-wrapper.ts';
import { type Certificate, type FakeWinrm, type FakeWinrmOptions, selfSignedCertificate, startFakeWinrm } from './winrm-fake-server.ts';
import { runOverWinrm, type RunOverWinrmOptions, WinrmError, type WinrmTarget } from './winrm-transport.ts';
import { type Collecting, collectLines, decode, failure as transportFailure, hostile, transportJob } from '../transport/transport-fixtures.ts';
import { ACTION, NS, SHELL_RESOURCE_URI, SIGNAL_TERMINATE } from './wsman-messages.ts';
import { childOf, findAll } from './xml-document.ts';

const USER = 'drydock';
const PASSWORD = 'Pa55-w0rd!';

interface Lab {
  dir: string;
  certificates: { genuine: Certificate; impostor: Certificate };
}

const test = baseTest
  .extend('lab', { scope: 'file' }, async ({}, { onCleanup }): Promise<Lab> => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-winrm-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    const [genuine, impostor] = await Promise.all([selfSignedCertificate(dir, 'genuine'), selfSignedCertificate(dir, 'impostor')]);
    return { dir, certificates: { genuine: genuine!, impostor: impostor! } };
  })
  .extend('scratch', async ({ lab }, { onCleanup }) => {
    const dir = await mkdtemp(join(lab.dir, 'scratch-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    return dir;
  })
  .extend('winrm', async ({ lab, scratch }, { onCleanup }): Promise<FakeWinrm> => {
    const fake = await startFakeWinrm(fakeOptions(lab, scratch));
    onCleanup(() => fake.stop());
    return fake;
  });

function fakeOptions(lab: Lab, dir: string, extra: Partial<FakeWinrmOptions> = {}): FakeWinrmOptions {
  return { dir, certificate: lab.certificates.genuine, auth: 'basic', username: USER, password: PASSWORD, env: process.env, ...extra };
}

function target(port: number, extra: Partial<WinrmTarget> = {}): WinrmTarget {
  return { host: '127.0.0.1', port, https: true, username: USER, password: PASSWORD, auth: 'basic', certFingerprint: null, ...extra };
}

/** A job the fake runs with bash: it stands in for PowerShell (see winrm-fake-server.ts). */
const scriptJob = (content: string, params: ParamValues = {}, extra: Partial<AgentScriptJob> = {}) =>
  transportJob(content, params, { interpreter: 'powershell', scriptPath: 'scripts/check.ps1', ...extra });

function run(options: Omit<RunOverWinrmOptions, 'onLine' | 'signal'> & Collecting) {
  return collectLines(options, (signal, onLine) => runOverWinrm({ ...options, signal, onLine }));
}

const failure = (promise: Promise<unknown>) => transportFailure(promise, WinrmError);

const exists = (path: string) => access(path).then(() => true, () => false);
/** False once the process is gone or a zombie (this machine's PID 1 does not reap orphans). */
async function processRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat !== null && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

interface JobDocument {
  v: number;
  env: { n: string; v: string }[];
  script: string | null;
  argv: string[];
}

function stdinDocument(fake: FakeWinrm, index = 0): JobDocument {
  return JSON.parse(fake.commands[index]?.stdin.toString('utf8') ?? 'null') as JobDocument;
}

describe('running a script over winrm', () => {
  test('passes parameters verbatim as data, masks secrets, and speaks the WS-Man shell protocol', async ({ lab, winrm, scratch }) => {
    const marker = join(scratch, 'pwned');
    const note = hostile(marker, ' & ^ ! <x> ');
    const secret = 's3cr3t-$(touch x)';
    const script = [
      'for name in NOTE COUNT FLAGS TOKEN; do v="DRYDOCK_PARAM_$name"; printf "env %s %s\\n" "$name" "$(printf "%s" "${!v}" | base64 -w0)"; done',
      'for a in "$@"; do printf "arg %s\\n" "$(printf "%s" "$a" | base64 -w0)"; done',
      'printf "cwd %s\\n" "$PWD"',
      'printf "run %s %s %s\\n" "$DRYDOCK_RUN_ID" "$DRYDOCK_SCRIPT_ID" "$DRYDOCK_HOST_ID"',
      'echo "token is $DRYDOCK_PARAM_TOKEN"',
      'echo "token again: $DRYDOCK_PARAM_TOKEN" >&2',
    ].join('\n');
    const params = { note, count: 3, flags: ['a b', 'c;d'], token: secret };

    const result = await run({
      target: target(winrm.port),
      job: scriptJob(script, params, { secretNames: ['token'] }),
      extraEnv: { DRYDOCK_HOST_ID: 'host-7' },
    });

    expect(result.exit).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    const fields = (prefix: string) => result.stdout.filter((l) => l.startsWith(`${prefix} `)).map((l) => l.split(' ').slice(1));
    expect(Object.fromEntries(fields('env').map(([name, b64]) => [name, decode(b64)]))).toEqual({ NOTE: note, COUNT: '3', FLAGS: 'a b,c;d', TOKEN: secret });
    expect(fields('arg').map(([b64]) => decode(b64))).toEqual([`--note=${note}`, '--count=3', '--flags=a b,c;d']);
    expect(result.stdout).toContain('run run-1 script-1 host-7');
    expect(result.stdout).toContain('token is ••••••');
    expect(result.stderr).toEqual(['token again: ••••••']);
    expect(result.lines.map((l) => l.line).join('\n')).not.toContain('s3cr3t');
    expect((fields('cwd')[0] ?? []).join(' ').startsWith(join(scratch, 'drydock-winrm-'))).toBe(true);
    expect(await exists(marker)).toBe(false);
    expect(await readdir(scratch)).toEqual([]);
    expect(result.certFingerprint).toBe(lab.certificates.genuine.fingerprint);

    // The conversation: Create, Command, Send, Receive until done, Delete; all on the cmd shell resource.
    const [command] = winrm.commands;
    const actions = winrm.requests.map((r) => r.action);
    expect(actions.slice(0, 3)).toEqual([ACTION.create, ACTION.command, ACTION.send]);
    expect(actions.at(-1)).toBe(ACTION.delete);
    expect(new Set(actions.slice(3, -1))).toEqual(new Set([ACTION.receive]));
    for (const request of winrm.requests) {
      expect(request.resourceUri).toBe(SHELL_RESOURCE_URI);
      expect(request.to).toBe(`https://127.0.0.1:${winrm.port}/wsman`);
      expect(request.shellId).toBe(request.action === ACTION.create ? null : command?.shellId);
    }
    expect(winrm.requests[0]?.options).toEqual({ WINRS_NOPROFILE: 'TRUE', WINRS_CODEPAGE: '65001' });
    expect(winrm.requests[1]?.options).toEqual({ WINRS_CONSOLEMODE_STDIN: 'FALSE', WINRS_SKIP_CMD_SHELL: 'TRUE' });
    expect(command?.command).toBe(WRAPPER_COMMAND);
    expect(command?.args).toEqual(WRAPPER_ARGUMENTS);
    const receive = findAll(winrm.requests[3]!.envelope.body, NS.shell, 'DesiredStream')[0];
    expect({ text: receive?.text, commandId: receive?.attributes.CommandId }).toEqual({ text: 'stdout stderr', commandId: command?.id });
    const stream = childOf(childOf(winrm.requests[2]!.envelope.body, NS.shell, 'Send'), NS.shell, 'Stream');
    expect(stream?.attributes).toEqual({ Name: 'stdin', CommandId: command?.id, End: 'true' });
    expect(stream?.text).toMatch(/^[A-Za-z0-9+/]+=*$/);

    // The secret travels once, in the environment part of the stdin document, and nowhere else.
    const document = stdinDocument(winrm);
    expect(document.env.map((e) => [e.n, decode(e.v)])).toContainEqual(['DRYDOCK_PARAM_TOKEN', secret]);
    expect(document.argv.map(decode).join('\n')).not.toContain('s3cr3t');
    for (const request of winrm.requests) expect(request.xml).not.toContain('s3cr3t');
    expect(command?.args.map(decode).join(' ')).not.toContain('s3cr3t');
  });

  test('runs a command template as argv, with values that stay single words, under the same command line', async ({ winrm, scratch }) => {
    const marker = join(scratch, 'pwned');
    const values = { greeting: `hello; touch ${marker} & del C:\\ | more`, name: `$(touch ${marker}) and \`touch ${marker}\` "%PATH%"` };
    const result = await run({
      target: target(winrm.port),
      job: scriptJob('', values, { interpreter: null, scriptPath: null, content: null, commandTemplate: `printf '%s|%s\\n' {{greeting}} "dear {{name}}"` }),
    });
    expect(result.exit).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    expect(result.stdout).toEqual([`${values.greeting}|dear ${values.name}`]);
    expect(await exists(marker)).toBe(false);
    expect(stdinDocument(winrm).argv.map(decode)).toEqual(['printf', '%s|%s\\n', values.greeting, `dear ${values.name}`]);

    await run({ target: target(winrm.port), job: scriptJob('echo other job', { anything: 'else' }) });
    expect(winrm.commands).toHaveLength(2);
    expect(winrm.commands[1]?.args).toEqual(winrm.commands[0]?.args);
  });

  test('reports the exit code and the last 20 lines of stderr', async ({ winrm }) => {
    const result = await run({ target: target(winrm.port), job: scriptJob('for i in $(seq 1 25); do echo "problem $i" >&2; done\necho finished\nexit 3\n') });
    expect(result.exit).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(result.stdout).toEqual(['finished']);
    expect(result.stderr).toHaveLength(25);
    expect(result.exit.stderrTail).toBe(Array.from({ length: 20 }, (_, i) => `problem ${i + 6}`).join('\n'));
  });

  test('asks again when a Receive times out with no output yet', async ({ winrm, scratch }) => {
    const go = join(scratch, 'go');
    winrm.onTimedOutFault = () => void writeFile(go, '');
    const result = await run({ target: target(winrm.port), job: scriptJob('while [ ! -e "$DRYDOCK_PARAM_GO" ]; do sleep 0.05; done\necho after the wait\n', { go }) });
    expect(result.exit.exitCode).toBe(0);
    expect(result.stdout).toEqual(['after the wait']);
    expect(winrm.timedOutFaults).toBeGreaterThan(0);
  });

  test('sends a large job in several stdin chunks, the last one ending the stream', async ({ winrm }) => {
    const filler = `# ${'x'.repeat(250_000)}\n`;
    const result = await run({ target: target(winrm.port), job: scriptJob(`${filler}echo "big script ran"\n`) });
    expect(result.stdout).toEqual(['big script ran']);
    const sends = winrm.requests.filter((r) => r.action === ACTION.send).map((r) => childOf(childOf(r.envelope.body, NS.shell, 'Send'), NS.shell, 'Stream'));
    expect(sends.length).toBeGreaterThan(2);
    expect(sends.map((s) => s?.attributes.End ?? null)).toEqual([...Array.from({ length: sends.length - 1 }, () => null), 'true']);
    expect(decode(stdinDocument(winrm).script ?? '')).toBe(`${filler}echo "big script ran"\n`);
    for (const request of winrm.requests) expect(Buffer.byteLength(request.xml)).toBeLessThan(153_600);
  });

  test('fails to start a command the host does not have, without showing secrets', async ({ winrm, scratch }) => {
    const err = await failure(
      run({
        target: target(winrm.port),
        job: scriptJob('', { token: 'hunter2' }, { interpreter: null, content: null, commandTemplate: 'no-such-tool-{{token}} --check', secretNames: ['token'] }),
      }),
    );
    expect(err.reason).toBe('other');
    expect(err.message).toBe(`could not start the script on 127.0.0.1:${winrm.port}: no-such-tool-•••••• is not installed or not on the PATH of ${USER}`);
    expect(await readdir(scratch)).toEqual([]);
    expect(winrm.requests.at(-1)?.action).toBe(ACTION.delete);
  });

  test('refuses interpreters other than PowerShell, and plain HTTP, before connecting', async ({ winrm }) => {
    const bash = await failure(run({ target: target(winrm.port), job: scriptJob('echo hi', {}, { interpreter: 'bash' }) }));
    expect(bash.reason).toBe('other');
    expect(bash.message).toBe('interpreter bash is not one the WinRM runner runs (powershell)');
    const plain = await failure(run({ target: target(winrm.port, { https: false, port: 5985 }), job: scriptJob('echo hi') }));
    expect(plain.reason).toBe('other');
    expect(plain.message).toMatch(/^WinRM over plain HTTP is not supported for 127\.0\.0\.1:5985/);
    expect(winrm.httpRequests).toBe(0);
  });
});

describe('stopping a script over winrm', () => {
  const background = 'sleep 300 &\necho $! > "$DRYDOCK_PARAM_PID_FILE"\necho started\nwait\n';

  test('a timeout sends the terminate signal, deletes the shell, and the script and its children end', async ({ winrm, scratch }) => {
    const pidFile = join(scratch, '..', `${winrm.port}-timeout.pid`);
    const result = await run({ target: target(winrm.port), job: scriptJob(background, { pid_file: pidFile }, { timeoutSeconds: 1 }) });

    expect(result.exit).toMatchObject({ exitCode: null, signal: null, timedOut: true, cancelled: false });
    expect(result.stdout).toEqual(['started']);
    expect(winrm.commands[0]?.signals).toEqual([SIGNAL_TERMINATE]);
    const actions = winrm.requests.map((r) => r.action);
    expect(actions.indexOf(ACTION.signal)).toBeGreaterThan(actions.indexOf(ACTION.send));
    expect(actions.at(-1)).toBe(ACTION.delete);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => processRunning(pid)).toBe(false);
    await expect.poll(() => readdir(scratch)).toEqual([]);
  });

  test('cancelling sends the terminate signal and reports the run cancelled', async ({ winrm, scratch }) => {
    const pidFile = join(scratch, '..', `${winrm.port}-cancel.pid`);
    const controller = new AbortController();
    const result = await run({
      target: target(winrm.port),
      job: scriptJob(background, { pid_file: pidFile }),
      signal: controller.signal,
      onLine: (line) => {
        if (line.line === 'started') controller.abort();
      },
    });

    expect(result.exit).toMatchObject({ exitCode: null, signal: null, timedOut: false, cancelled: true });
    expect(winrm.commands[0]?.signals).toEqual([SIGNAL_TERMINATE]);
    expect(winrm.requests.at(-1)?.action).toBe(ACTION.delete);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => processRunning(pid)).toBe(false);
  });

  test('a dropped connection fails the run as unreachable', async ({ lab, scratch }) => {
    const fake = await startFakeWinrm(fakeOptions(lab, scratch));
    try {
      const err = await failure(
        run({
          target: target(fake.port),
          job: scriptJob('echo started\nsleep 300\n'),
          onLine: (line) => {
            if (line.line === 'started') void fake.stop();
          },
        }),
      );
      expect(err.reason).toBe('unreachable');
      expect(err.message).toMatch(new RegExp(`^lost the connection to 127\\.0\\.0\\.1:${fake.port} while the script ran \\(127\\.0\\.0\\.1:${fake.port} is unreachable: `));
      expect(err.message).toMatch(/WinRM ends the script when its shell has been idle for 120 s$/);
    } finally {
      await fake.stop();
    }
  });

  test('cancelling before the connection is made rejects with the reason and runs nothing', async ({ winrm }) => {
    const controller = new AbortController();
    const reason = new Error('the run was cancelled');
    controller.abort(reason);
    await expect(run({ target: target(winrm.port), job: scriptJob('echo never'), signal: controller.signal })).rejects.toBe(reason);
    expect(winrm.httpRequests).toBe(0);
  });
});

describe('certificates', () => {
  test('a first connection returns the fingerprint to pin; a different certificate is refused before credentials are sent', async ({ lab, scratch }) => {
    const port = await freePort();
    let fake = await startFakeWinrm(fakeOptions(lab, scratch, { port }));
    try {
      const first = await run({ target: target(port), job: scriptJob('echo hello') });
      expect(first.certFingerprint).toBe(lab.certificates.genuine.fingerprint);
      const pinned = await run({ target: target(port, { certFingerprint: first.certFingerprint }), job: scriptJob('echo again') });
      expect(pinned.stdout).toEqual(['again']);
      // The same pin written as bare lower-case hex matches too.
      const bare = first.certFingerprint.replace(/:/g, '').toLowerCase();
      expect((await run({ target: target(port, { certFingerprint: bare }), job: scriptJob('echo bare') })).stdout).toEqual(['bare']);

      await fake.stop();
      fake = await startFakeWinrm(fakeOptions(lab, scratch, { port, certificate: lab.certificates.impostor }));
      const marker = join(scratch, 'ran');
      const err = await failure(run({ target: target(port, { certFingerprint: first.certFingerprint }), job: scriptJob(`touch ${marker}`) }));
      expect(err.reason).toBe('cert_changed');
      expect(err.message).toBe(
        `the TLS certificate of 127.0.0.1:${port} changed since it was pinned: it now presents SHA-256 ${lab.certificates.impostor.fingerprint}, not ${lab.certificates.genuine.fingerprint}. Nothing was sent; if the host's certificate was replaced on purpose, pin the new one`,
      );
      expect(fake.httpRequests).toBe(0);
      expect(await exists(marker)).toBe(false);
    } finally {
      await fake.stop();
    }
  });

  test('a pin that is not a SHA-256 fingerprint is refused', async ({ winrm }) => {
    const err = await failure(run({ target: target(winrm.port, { certFingerprint: 'AB:CD' }), job: scriptJob('true') }));
    expect(err.reason).toBe('other');
    expect(winrm.httpRequests).toBe(0);
  });
});

describe('authentication', () => {
  test('a wrong Basic password fails with reason auth and does not repeat the password', async ({ winrm }) => {
    const err = await failure(run({ target: target(winrm.port, { password: 'not-the-password' }), job: scriptJob('true') }));
    expect(err.reason).toBe('auth');
    expect(err.message).toBe(
      `authentication as ${USER} failed on 127.0.0.1:${winrm.port}: check the user name and password, that Basic authentication is enabled for the WinRM service (it is off by default), and that the account is a local one (Basic does not work for domain accounts)`,
    );
    expect(winrm.commands).toEqual([]);
  });

  test('NTLM: authenticates each connection with NTLMv2, a MIC and the TLS channel binding', async ({ lab, scratch }) => {
    const fake = await startFakeWinrm(fakeOptions(lab, scratch, { auth: 'ntlm', username: 'FAKE\\drydock' }));
    try {
      const ntlm = target(fake.port, { auth: 'ntlm', username: 'FAKE\\drydock' });
      const result = await run({ target: ntlm, job: scriptJob('echo "over ntlm"\nexit 4\n') });
      expect(result.stdout).toEqual(['over ntlm']);
      expect(result.exit.exitCode).toBe(4);
      // One logon per connection: the control channel and the receive channel.
      expect(fake.ntlmLogons).toEqual([
        { user: 'drydock', domain: 'FAKE', channelBindingMatched: true, micChecked: true },
        { user: 'drydock', domain: 'FAKE', channelBindingMatched: true, micChecked: true },
      ]);
      expect(fake.requests.map((r) => r.action).at(-1)).toBe(ACTION.delete);

      const err = await failure(run({ target: { ...ntlm, password: 'wrong' }, job: scriptJob('true') }));
      expect(err.reason).toBe('auth');
      expect(err.message).toBe(
        `authentication as FAKE\\drydock failed on 127.0.0.1:${fake.port}: check the user name (DOMAIN\\user or user@domain) and password, and that Negotiate authentication is enabled for the WinRM service`,
      );
    } finally {
      await fake.stop();
    }
  });
});

describe('connection failures', () => {
  test('a closed port fails with reason unreachable', async () => {
    const port = await freePort();
    const err = await failure(run({ target: target(port), job: scriptJob('true') }));
    expect(err.reason).toBe('unreachable');
    expect(err.message).toBe(`127.0.0.1:${port} is unreachable: connection refused (is the WinRM HTTPS listener on that port? It is 5986 by default)`);
  });

  test('a port that accepts but never speaks TLS fails with reason timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const err = await failure(run({ target: target(port, { connectTimeoutMs: 1_000 }), job: scriptJob('true') }));
      expect(err.reason).toBe('timeout');
      expect(err.message).toBe(`127.0.0.1:${port} did not complete the TLS handshake within 1 s: check the host, the port and any firewall in between`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('an HTTPS server that is not WinRM fails with reason protocol', async ({ lab }) => {
    const web = https.createServer({ cert: lab.certificates.genuine.cert, key: lab.certificates.genuine.key }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>It works!</body></html>');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const port = (web.address() as AddressInfo).port;
    try {
      const err = await failure(run({ target: target(port), job: scriptJob('true') }));
      expect(err.reason).toBe('protocol');
      expect(err.message).toBe(`127.0.0.1:${port} answered HTTP 200 with something that is not a SOAP envelope`);
    } finally {
      web.closeAllConnections();
      await new Promise((resolve) => web.close(resolve));
    }
  });
});
