import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { access, constants, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { AV, ntowfv2, NTLM_MIC_OFFSET, parseAuthenticate, parseAvPairs } from './ntlm.ts';
import { FAILED_MARKER, READY_MARKER, WRAPPER_COMMAND, WRAPPER_SCRIPT } from './powershell-wrapper.ts';
import { ACTION, COMMAND_STATE_DONE, NS, readEnvelope, type SoapEnvelope } from './wsman-messages.ts';
import { childOf, escapeXml, findAll } from './xml-document.ts';

/**
 * A fake Windows WinRM service for tests, since no Windows host runs here. It speaks the documented wire
 * protocol ([MS-WSMV] 4.7 examples): SOAP 1.2 Create / Command / Send / Receive / Signal / Delete on the
 * shell/cmd resource, base64 streams, CommandState Done with ExitCode, the w:TimedOut fault (WSManFault
 * 2150858793) when a Receive finds no output, over HTTPS with Basic or NTLM (NTLMv2 response, MIC and channel
 * binding checked as a Windows server checks them).
 *
 * What it does NOT do is run PowerShell (there is none on this machine). It checks that the command is the
 * Drydock wrapper, decodes the job document the client sent on stdin and does what the wrapper would do with
 * it: exports the DRYDOCK_* variables, prints the READY markers, and runs a command template's argv directly
 * (no shell). A "PowerShell" script's body is run with **bash**, so tests write their scripts in bash; the
 * script arguments are passed as the wrapper passes them. The wrapper's PowerShell text itself is not executed.
 *
 * It also answers WS-Management Identify ([DMTF-DSP0226] 11, [MS-WSMV] 3.1.4.1.23): unauthenticated when the
 * request carries `WSMANIDENTIFY: unauthenticated` (with the OS version hidden, as Windows hides it), and after
 * authentication. With `protocol: 'http'` it is a 5985-style listener: Identify only, everything else refused
 * with a Negotiate challenge, as a Windows HTTP listener that allows no unencrypted Basic does.
 */

export interface FakeWinrmOptions {
  dir: string;
  port?: number;
  /** The address to listen on; default 127.0.0.1. */
  host?: string;
  /** https (default): the shell protocol and Identify; http: Identify only, like a 5985 listener. */
  protocol?: 'https' | 'http';
  /** What Identify answers once authenticated, as `OS: <version> SP: 0.0 Stack: 3.0`; default 10.0.20348 (Windows Server 2022). */
  osVersion?: string;
  /** Required for https. */
  certificate?: Certificate;
  auth: 'basic' | 'ntlm';
  /** For NTLM, "DOMAIN\\user"; for Basic, the local user name. */
  username: string;
  password: string;
  /** The environment commands run with (the job's DRYDOCK_* variables are added), and whose PATH finds them. */
  env: NodeJS.ProcessEnv;
  /** How long a Receive waits for output before the TimedOut fault; a real server waits OperationTimeout. */
  receiveWaitMs?: number;
}

export interface Certificate {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, "AB:CD:..." */
  fingerprint: string;
}

export interface WireRequest {
  action: string;
  resourceUri: string | null;
  to: string | null;
  shellId: string | null;
  options: Record<string, string>;
  operationTimeout: string | null;
  /** The request body exactly as received. */
  xml: string;
  envelope: SoapEnvelope;
}

export interface FakeCommand {
  id: string;
  shellId: string;
  command: string;
  args: string[];
  stdin: Buffer;
  pid: number | null;
  signals: string[];
  exitCode: number | null;
  done: boolean;
}

export interface FakeWinrm {
  port: number;
  /** Identify requests answered, anonymous or not. */
  identifies: { authenticated: boolean }[];
  /** Every HTTP request that reached the server, authenticated or not. */
  httpRequests: number;
  /** Every authenticated SOAP request, in order. */
  requests: WireRequest[];
  commands: FakeCommand[];
  /** NTLM authentications that passed, with what the client bound them to. */
  ntlmLogons: { user: string; domain: string; channelBindingMatched: boolean; micChecked: boolean }[];
  timedOutFaults: number;
  /** Called each time a Receive is answered with the TimedOut fault. */
  onTimedOutFault: (() => void) | null;
  stop(): Promise<void>;
}

const run = promisify(execFile);

/** A self-signed P-256 certificate for CN=localhost, made with openssl like a Windows self-signed WinRM cert. */
export async function selfSignedCertificate(dir: string, name: string): Promise<Certificate> {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile,
  ]);
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { cert, key, fingerprint: new X509Certificate(cert).fingerprint256 };
}

function soap(action: string, relatesTo: string, body: string): string {
  return [
    `<s:Envelope xml:lang="en-US" xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:x="${NS.transfer}" xmlns:w="${NS.wsman}" xmlns:rsp="${NS.shell}" xmlns:p="${NS.wsmv}">`,
    `<s:Header><a:Action>${action}</a:Action><a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID>`,
    `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>${escapeXml(relatesTo)}</a:RelatesTo></s:Header>`,
    `<s:Body>${body}</s:Body></s:Envelope>`,
  ].join('');
}

function fault(subcode: string, code: string, message: string, relatesTo: string): string {
  return soap(
    'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
    relatesTo,
    `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en-US">${escapeXml(message)}</s:Text></s:Reason>` +
      `<s:Detail><f:WSManFault xmlns:f="${NS.fault}" Code="${code}" Machine="fake-winrm"><f:Message>${escapeXml(message)}</f:Message></f:WSManFault></s:Detail></s:Fault>`,
  );
}

const IDENTITY_NS = 'http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd';

/** A SOAP envelope whose body is wsmid:Identify. */
function isIdentify(xml: string): boolean {
  try {
    const envelope = readEnvelope(xml);
    return findAll(envelope.body, IDENTITY_NS, 'Identify').length > 0;
  } catch {
    return false;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function utf16(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}

function avPair(id: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
}

/** A CHALLENGE_MESSAGE laid out as in [MS-NLMP] 4.2.4.3, with a timestamp so the client must send a MIC. */
function challengeMessage(serverChallenge: Buffer): Buffer {
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(BigInt(Date.now()) * 10000n + 116444736000000000n);
  const targetName = utf16('FAKE');
  const targetInfo = Buffer.concat([avPair(AV.NB_DOMAIN_NAME, utf16('FAKE')), avPair(AV.NB_COMPUTER_NAME, utf16('WINHOST')), avPair(AV.TIMESTAMP, time), avPair(AV.EOL, Buffer.alloc(0))]);
  const header = Buffer.alloc(56);
  Buffer.from('NTLMSSP\0', 'latin1').copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(targetName.length, 12);
  header.writeUInt16LE(targetName.length, 14);
  header.writeUInt32LE(56, 16);
  header.writeUInt32LE(0xe28a8235, 20);
  serverChallenge.copy(header, 24);
  header.writeUInt16LE(targetInfo.length, 40);
  header.writeUInt16LE(targetInfo.length, 42);
  header.writeUInt32LE(56 + targetName.length, 44);
  Buffer.from([6, 0, 0x70, 0x17, 0, 0, 0, 0x0f]).copy(header, 48);
  return Buffer.concat([header, targetName, targetInfo]);
}

/** RFC 5929 tls-server-end-point for the fake's own (ECDSA SHA-256) certificate, as gss_channel_bindings_struct MD5. */
function expectedChannelBindings(certificatePem: string): Buffer {
  const appData = Buffer.concat([Buffer.from('tls-server-end-point:'), createHash('sha256').update(new X509Certificate(certificatePem).raw).digest()]);
  const struct = Buffer.alloc(20);
  struct.writeUInt32LE(appData.length, 16);
  return createHash('md5').update(Buffer.concat([struct, appData])).digest();
}

interface NtlmConnection {
  negotiate: Buffer | null;
  challenge: Buffer | null;
  serverChallenge: Buffer | null;
  authenticated: boolean;
}

interface Shell {
  id: string;
  commands: Map<string, CommandState>;
}

interface CommandState extends FakeCommand {
  child: ChildProcess | null;
  pending: { stream: 'stdout' | 'stderr'; data: Buffer }[];
  workDir: string | null;
  waiters: (() => void)[];
}

async function onPath(name: string, path: string): Promise<string | null> {
  const candidates = name.includes('/') ? [name] : path.split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const candidate of candidates) {
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return null;
}

export async function startFakeWinrm(options: FakeWinrmOptions): Promise<FakeWinrm> {
  const shells = new Map<string, Shell>();
  const ntlm = new WeakMap<Socket, NtlmConnection>();
  const sockets = new Set<Socket>();
  const receiveWaitMs = options.receiveWaitMs ?? 500;
  const slash = options.username.indexOf('\\');
  const account = slash === -1 ? { domain: '', user: options.username } : { domain: options.username.slice(0, slash), user: options.username.slice(slash + 1) };
  const protocol = options.protocol ?? 'https';
  if (protocol === 'https' && options.certificate === undefined) throw new Error('the fake WinRM server needs a certificate for https');
  const bindings = options.certificate ? expectedChannelBindings(options.certificate.cert) : Buffer.alloc(0);

  const fake: FakeWinrm = {
    port: 0,
    identifies: [],
    httpRequests: 0,
    requests: [],
    commands: [],
    ntlmLogons: [],
    timedOutFaults: 0,
    onTimedOutFault: null,
    stop: async () => {},
  };

  const wake = (command: CommandState) => {
    for (const waiter of command.waiters.splice(0)) waiter();
  };
  const emit = (command: CommandState, stream: 'stdout' | 'stderr', data: Buffer | string) => {
    command.pending.push({ stream, data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
    wake(command);
  };
  const finish = async (command: CommandState, exitCode: number) => {
    if (command.done) return;
    if (command.workDir) await rm(command.workDir, { recursive: true, force: true });
    command.exitCode = exitCode;
    command.done = true;
    wake(command);
  };
  const kill = (command: CommandState) => {
    if (command.child?.pid !== undefined && command.child.exitCode === null && command.child.signalCode === null) {
      try {
        process.kill(-command.child.pid, 'SIGKILL');
      } catch {
        command.child.kill('SIGKILL');
      }
    }
  };

  /** Does with the job document what the Drydock wrapper does (see the header comment for what differs). */
  const execute = async (command: CommandState) => {
    const failWith = (why: string) => {
      emit(command, 'stderr', `${FAILED_MARKER}${why}\r\n`);
      return finish(command, 125);
    };
    const encoded = command.args[command.args.indexOf('-EncodedCommand') + 1] ?? '';
    if (command.command !== WRAPPER_COMMAND || Buffer.from(encoded, 'base64').toString('utf16le') !== WRAPPER_SCRIPT) {
      return failWith('the fake WinRM server only knows how to run the Drydock wrapper');
    }
    let job: { v: number; env: { n: string; v: string }[]; script: string | null; argv: string[] };
    try {
      job = JSON.parse(command.stdin.toString('utf8')) as typeof job;
    } catch {
      return failWith('the job document on stdin is not valid JSON');
    }
    if (job.v !== 1) return failWith('unknown job framing; the client and this wrapper disagree');
    const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    const env: Record<string, string> = {};
    for (const variable of job.env) {
      if (!/^DRYDOCK_[A-Z0-9_]+$/.test(variable.n)) return failWith(`refused variable ${variable.n}`);
      env[variable.n] = text(variable.v);
    }
    let argv = job.argv.map(text);
    command.workDir = await mkdtemp(join(options.dir, 'drydock-winrm-'));
    let program: string;
    if (job.script === null) {
      if (argv.length === 0) return failWith('nothing to run');
      const found = await onPath(argv[0]!, options.env.PATH ?? '');
      if (found === null) return failWith(`${argv[0]} is not installed or not on the PATH of ${account.user}`);
      program = found;
      argv = argv.slice(1);
    } else {
      const file = join(command.workDir, 'script.ps1');
      await writeFile(file, text(job.script));
      program = 'bash';
      argv = [file, ...argv];
    }
    emit(command, 'stdout', `${READY_MARKER}\r\n`);
    emit(command, 'stderr', `${READY_MARKER}\r\n`);
    const child = spawn(program, argv, { cwd: command.workDir, env: { ...options.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    command.child = child;
    command.pid = child.pid ?? null;
    child.stdout.on('data', (chunk: Buffer) => emit(command, 'stdout', chunk));
    child.stderr.on('data', (chunk: Buffer) => emit(command, 'stderr', chunk));
    child.on('error', (err) => {
      emit(command, 'stderr', `${err.message}\r\n`);
      void finish(command, 1);
    });
    child.on('close', (code) => {
      // A process killed by terminate reports 1 here, the way TerminateProcess leaves an exit code.
      void finish(command, code ?? 1);
    });
  };

  const handleSoap = async (request: WireRequest, res: ServerResponse) => {
    const messageId = childOf(request.envelope.header, NS.addressing, 'MessageID')?.text.trim() ?? '';
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { 'Content-Type': 'application/soap+xml;charset=UTF-8' });
      res.end(xml);
    };
    const shell = request.shellId === null ? undefined : shells.get(request.shellId);
    const commandOf = (element: string) => {
      const el = findAll(request.envelope.body, NS.shell, element)[0];
      const id = el?.attributes.CommandId;
      return id === undefined ? undefined : shell?.commands.get(id);
    };

    if (request.action === ACTION.create) {
      const id = randomUUID().toUpperCase();
      shells.set(id, { id, commands: new Map() });
      return reply(
        200,
        soap(
          'http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse',
          messageId,
          `<x:ResourceCreated><a:Address>https://127.0.0.1:${fake.port}/wsman</a:Address><a:ReferenceParameters>` +
            `<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>` +
            `<w:SelectorSet><w:Selector Name="ShellId">${id}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
            `<rsp:Shell><rsp:ShellId>${id}</rsp:ShellId><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
        ),
      );
    }
    if (!shell) return reply(500, fault('InvalidSelectors', '2150858843', 'The request for the Windows Remote Shell with ShellId failed because the shell was not found on the server.', messageId));

    if (request.action === ACTION.command) {
      const line = findAll(request.envelope.body, NS.shell, 'CommandLine')[0];
      const command: CommandState = {
        id: randomUUID().toUpperCase(),
        shellId: shell.id,
        command: childOf(line, NS.shell, 'Command')?.text ?? '',
        args: (line?.children ?? []).filter((c) => c.ns === NS.shell && c.name === 'Arguments').map((c) => c.text),
        stdin: Buffer.alloc(0),
        pid: null,
        signals: [],
        exitCode: null,
        done: false,
        child: null,
        pending: [],
        workDir: null,
        waiters: [],
      };
      shell.commands.set(command.id, command);
      fake.commands.push(command);
      return reply(
        200,
        soap('http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse', messageId, `<rsp:CommandResponse><rsp:CommandId>${command.id}</rsp:CommandId></rsp:CommandResponse>`),
      );
    }
    if (request.action === ACTION.send) {
      const stream = findAll(request.envelope.body, NS.shell, 'Stream')[0];
      const command = commandOf('Stream');
      if (!stream || !command) return reply(500, fault('InvalidParameter', '87', 'The parameter is incorrect.', messageId));
      command.stdin = Buffer.concat([command.stdin, Buffer.from(stream.text, 'base64')]);
      if (stream.attributes.End === 'true' && command.child === null && !command.done) void execute(command);
      return reply(200, soap('http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse', messageId, '<rsp:SendResponse/>'));
    }
    if (request.action === ACTION.receive) {
      const command = commandOf('DesiredStream');
      if (!command) return reply(500, fault('InvalidParameter', '87', 'The parameter is incorrect.', messageId));
      if (command.pending.length === 0 && !command.done) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, receiveWaitMs);
          command.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      if (command.pending.length === 0 && !command.done) {
        fake.timedOutFaults += 1;
        fake.onTimedOutFault?.();
        return reply(
          500,
          fault('TimedOut', '2150858793', 'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.', messageId),
        );
      }
      const chunks = command.pending.splice(0);
      const streams = chunks.map(({ stream, data }) => `<rsp:Stream Name="${stream}" CommandId="${command.id}">${data.toString('base64')}</rsp:Stream>`);
      const state = command.done
        ? `<rsp:Stream Name="stdout" CommandId="${command.id}" End="true"></rsp:Stream><rsp:Stream Name="stderr" CommandId="${command.id}" End="true"></rsp:Stream>` +
          `<rsp:CommandState CommandId="${command.id}" State="${COMMAND_STATE_DONE}"><rsp:ExitCode>${command.exitCode}</rsp:ExitCode></rsp:CommandState>`
        : `<rsp:CommandState CommandId="${command.id}" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"></rsp:CommandState>`;
      return reply(
        200,
        soap('http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse', messageId, `<rsp:ReceiveResponse>${streams.join('')}${state}</rsp:ReceiveResponse>`),
      );
    }
    if (request.action === ACTION.signal) {
      const command = commandOf('Signal');
      if (!command) return reply(500, fault('InvalidParameter', '87', 'The parameter is incorrect.', messageId));
      const code = childOf(findAll(request.envelope.body, NS.shell, 'Signal')[0], NS.shell, 'Code')?.text.trim() ?? '';
      command.signals.push(code);
      if (code.endsWith('/signal/terminate')) {
        if (command.child) kill(command);
        else await finish(command, 1);
      }
      return reply(200, soap('http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse', messageId, '<rsp:SignalResponse/>'));
    }
    if (request.action === ACTION.delete) {
      for (const command of shell.commands.values()) kill(command);
      shells.delete(shell.id);
      return reply(200, soap('http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse', messageId, ''));
    }
    return reply(500, fault('ActionNotSupported', '2150858772', 'The action is not supported by the service.', messageId));
  };

  /** True when the request may go on; otherwise the 401 (or NTLM challenge) has been sent. */
  const authenticate = (req: IncomingMessage, res: ServerResponse, body: Buffer): boolean => {
    const header = req.headers.authorization ?? '';
    const deny = (challenge?: string) => {
      res.writeHead(401, { 'WWW-Authenticate': challenge ? [challenge] : ['Negotiate', 'Basic realm="WSMAN"'], 'Content-Length': '0' });
      res.end();
      return false;
    };
    if (options.auth === 'basic') {
      const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
      return header === expected ? true : deny();
    }
    const socket = req.socket;
    const state = ntlm.get(socket) ?? { negotiate: null, challenge: null, serverChallenge: null, authenticated: false };
    ntlm.set(socket, state);
    const token = /^Negotiate (.+)$/.exec(header)?.[1];
    if (token === undefined) return state.authenticated ? true : deny();
    const message = Buffer.from(token, 'base64');
    const type = message.length >= 12 ? message.readUInt32LE(8) : 0;
    if (type === 1) {
      state.authenticated = false;
      state.negotiate = message;
      state.serverChallenge = randomBytes(8);
      state.challenge = challengeMessage(state.serverChallenge);
      if (body.length > 0) return deny();
      return deny(`Negotiate ${state.challenge.toString('base64')}`);
    }
    if (type !== 3 || !state.negotiate || !state.challenge || !state.serverChallenge) return deny();
    const auth = parseAuthenticate(message);
    const blob = auth.ntChallengeResponse.subarray(16);
    const key = ntowfv2(options.password, account.user, account.domain);
    const proof = createHmac('md5', key).update(state.serverChallenge).update(blob).digest();
    const sameAccount = auth.user.toLowerCase() === account.user.toLowerCase() && auth.domain.toLowerCase() === account.domain.toLowerCase();
    if (!sameAccount || !proof.equals(auth.ntChallengeResponse.subarray(0, 16))) return deny();
    // temp = 01 01 Z(6) Time(8) ClientChallenge(8) Z(4) AV pairs Z(4): the client's AV pairs start at 28.
    const pairs = parseAvPairs(blob.subarray(28));
    const flags = pairs.find((p) => p.id === AV.FLAGS)?.value.readUInt32LE(0) ?? 0;
    let micChecked = false;
    if (flags & 2) {
      const sessionBaseKey = createHmac('md5', key).update(proof).digest();
      const zeroed = Buffer.from(message);
      zeroed.fill(0, NTLM_MIC_OFFSET, NTLM_MIC_OFFSET + 16);
      const mic = createHmac('md5', sessionBaseKey).update(state.negotiate).update(state.challenge).update(zeroed).digest();
      if (!mic.equals(auth.mic)) return deny();
      micChecked = true;
    }
    const channelBindingMatched = pairs.find((p) => p.id === AV.CHANNEL_BINDINGS)?.value.equals(bindings) ?? false;
    // Like a Windows listener with CbtHardeningLevel Strict: a binding to another TLS channel is refused.
    if (!channelBindingMatched) return deny();
    state.authenticated = true;
    fake.ntlmLogons.push({ user: auth.user, domain: auth.domain, channelBindingMatched, micChecked });
    return true;
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    fake.httpRequests += 1;
    res.setHeader('Server', 'Microsoft-HTTPAPI/2.0');
    void (async () => {
      const body = await readBody(req);
      const xml = body.toString('utf8');
      const identify = req.method === 'POST' && req.url === '/wsman' && isIdentify(xml);
      if (identify && req.headers.wsmanidentify === 'unauthenticated') return answerIdentify(res, false);
      if (protocol === 'http') {
        res.writeHead(401, { 'WWW-Authenticate': 'Negotiate', 'Content-Length': '0' }).end();
        return;
      }
      if (!authenticate(req, res, body)) return;
      if (req.method !== 'POST' || req.url !== '/wsman') {
        res.writeHead(404).end();
        return;
      }
      if (identify) return answerIdentify(res, true);
      let envelope: SoapEnvelope;
      try {
        envelope = readEnvelope(xml);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const selector = findAll(envelope.header ?? envelope.body, NS.wsman, 'Selector').find((s) => s.attributes.Name === 'ShellId');
      const optionSet = childOf(envelope.header, NS.wsman, 'OptionSet');
      const request: WireRequest = {
        action: envelope.action ?? '',
        resourceUri: childOf(envelope.header, NS.wsman, 'ResourceURI')?.text.trim() ?? null,
        to: childOf(envelope.header, NS.addressing, 'To')?.text.trim() ?? null,
        shellId: selector?.text.trim() ?? null,
        options: Object.fromEntries((optionSet?.children ?? []).map((o) => [o.attributes.Name ?? '', o.text])),
        operationTimeout: childOf(envelope.header, NS.wsman, 'OperationTimeout')?.text.trim() ?? null,
        xml,
        envelope,
      };
      fake.requests.push(request);
      await handleSoap(request, res);
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  };
  const answerIdentify = (res: ServerResponse, authenticated: boolean) => {
    fake.identifies.push({ authenticated });
    const version = authenticated ? (options.osVersion ?? '10.0.20348') : '0.0.0';
    res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' });
    res.end(
      `<s:Envelope xml:lang="en-US" xmlns:s="${NS.soap}"><s:Header/><s:Body><wsmid:IdentifyResponse xmlns:wsmid="${IDENTITY_NS}">` +
        `<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion><wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>` +
        `<wsmid:ProductVersion>OS: ${escapeXml(version)} SP: 0.0 Stack: 3.0</wsmid:ProductVersion></wsmid:IdentifyResponse></s:Body></s:Envelope>`,
    );
  };
  const server = protocol === 'https' ? https.createServer({ cert: options.certificate!.cert, key: options.certificate!.key }, handler) : http.createServer(handler);
  server.on(protocol === 'https' ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Tests provoke handshakes that fail on purpose (an impostor's certificate is refused mid-handshake).
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  fake.port = (server.address() as AddressInfo).port;
  fake.stop = async () => {
    for (const shell of shells.values()) for (const command of shell.commands.values()) kill(command);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;
}
