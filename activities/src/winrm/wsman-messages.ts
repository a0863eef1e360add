import { randomUUID } from 'node:crypto';
import { childOf, escapeXml, findAll, parseXml, type XmlElement } from './xml-document.ts';

/**
 * The WS-Management Shell messages ([MS-WSMV] 3.1.4.5 Create, 3.1.4.11 Command, 3.1.4.13 Send,
 * 3.1.4.14 Receive, 3.1.4.12 Signal, 3.1.4.4 Delete) as SOAP 1.2 envelopes, and readers for the answers.
 */

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  addressing: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  wsmv: 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
  shell: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  transfer: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  fault: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
} as const;

export const SHELL_RESOURCE_URI = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd';
const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

export const ACTION = {
  create: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create',
  delete: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete',
  command: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command',
  send: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send',
  receive: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive',
  signal: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal',
} as const;

export const SIGNAL_TERMINATE = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate';
export const COMMAND_STATE_DONE = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done';
/** The WSManFault code of a Receive that found no output within its OperationTimeout ([MS-WSMV] 3.1.4.14). */
export const OPERATION_TIMED_OUT_CODE = '2150858793';
/** The default MaxEnvelopeSize of a Windows WinRM service (150 KiB). */
export const MAX_ENVELOPE_SIZE = 153600;

interface Header {
  to: string;
  action: string;
  timeoutSeconds: number;
  shellId?: string;
  options?: Record<string, string>;
}

function envelope(header: Header, body: string): string {
  const selector = header.shellId === undefined ? '' : `<w:SelectorSet><w:Selector Name="ShellId">${escapeXml(header.shellId)}</w:Selector></w:SelectorSet>`;
  const options =
    header.options === undefined
      ? ''
      : `<w:OptionSet>${Object.entries(header.options)
          .map(([name, value]) => `<w:Option Name="${escapeXml(name)}">${escapeXml(value)}</w:Option>`)
          .join('')}</w:OptionSet>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}" xmlns:p="${NS.wsmv}" xmlns:rsp="${NS.shell}">`,
    '<s:Header>',
    `<a:To>${escapeXml(header.to)}</a:To>`,
    `<a:ReplyTo><a:Address s:mustUnderstand="true">${ANONYMOUS}</a:Address></a:ReplyTo>`,
    `<w:ResourceURI s:mustUnderstand="true">${SHELL_RESOURCE_URI}</w:ResourceURI>`,
    `<a:Action s:mustUnderstand="true">${header.action}</a:Action>`,
    `<w:MaxEnvelopeSize s:mustUnderstand="true">${MAX_ENVELOPE_SIZE}</w:MaxEnvelopeSize>`,
    `<a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID>`,
    '<w:Locale xml:lang="en-US" s:mustUnderstand="false"/>',
    '<p:DataLocale xml:lang="en-US" s:mustUnderstand="false"/>',
    `<w:OperationTimeout>PT${header.timeoutSeconds}.000S</w:OperationTimeout>`,
    selector,
    options,
    '</s:Header>',
    `<s:Body>${body}</s:Body>`,
    '</s:Envelope>',
  ].join('');
}

export function createShellRequest(to: string, timeoutSeconds: number, idleTimeoutSeconds: number): string {
  return envelope(
    // UTF-8 console code page, so what the command prints arrives as UTF-8; no user profile to load.
    { to, action: ACTION.create, timeoutSeconds, options: { WINRS_NOPROFILE: 'TRUE', WINRS_CODEPAGE: '65001' } },
    `<rsp:Shell><rsp:IdleTimeOut>PT${idleTimeoutSeconds}.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
  );
}

export function commandRequest(to: string, timeoutSeconds: number, shellId: string, command: string, args: readonly string[]): string {
  return envelope(
    // stdin a pipe (so the command sees end-of-file), and the command started directly rather than through cmd.exe.
    { to, action: ACTION.command, timeoutSeconds, shellId, options: { WINRS_CONSOLEMODE_STDIN: 'FALSE', WINRS_SKIP_CMD_SHELL: 'TRUE' } },
    `<rsp:CommandLine><rsp:Command>${escapeXml(command)}</rsp:Command>${args.map((a) => `<rsp:Arguments>${escapeXml(a)}</rsp:Arguments>`).join('')}</rsp:CommandLine>`,
  );
}

export function sendRequest(to: string, timeoutSeconds: number, shellId: string, commandId: string, data: Buffer, end: boolean): string {
  return envelope(
    { to, action: ACTION.send, timeoutSeconds, shellId },
    `<rsp:Send><rsp:Stream Name="stdin" CommandId="${escapeXml(commandId)}"${end ? ' End="true"' : ''}>${data.toString('base64')}</rsp:Stream></rsp:Send>`,
  );
}

export function receiveRequest(to: string, timeoutSeconds: number, shellId: string, commandId: string): string {
  return envelope(
    { to, action: ACTION.receive, timeoutSeconds, shellId },
    `<rsp:Receive><rsp:DesiredStream CommandId="${escapeXml(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
  );
}

export function signalRequest(to: string, timeoutSeconds: number, shellId: string, commandId: string, code: string): string {
  return envelope(
    { to, action: ACTION.signal, timeoutSeconds, shellId },
    `<rsp:Signal CommandId="${escapeXml(commandId)}"><rsp:Code>${escapeXml(code)}</rsp:Code></rsp:Signal>`,
  );
}

export function deleteShellRequest(to: string, timeoutSeconds: number, shellId: string): string {
  return envelope({ to, action: ACTION.delete, timeoutSeconds, shellId }, '');
}

export interface SoapEnvelope {
  action: string | null;
  header: XmlElement | undefined;
  body: XmlElement;
}

/** Parses a SOAP 1.2 envelope; throws XmlError when it is not one. */
export function readEnvelope(text: string): SoapEnvelope {
  const root = parseXml(text);
  const body = childOf(root, NS.soap, 'Body');
  if (root.ns !== NS.soap || root.name !== 'Envelope' || body === undefined) throw new SyntaxError('not a SOAP 1.2 envelope');
  const header = childOf(root, NS.soap, 'Header');
  const action = childOf(header, NS.addressing, 'Action')?.text.trim() ?? null;
  return { action, header, body };
}

export interface SoapFault {
  code: string;
  subcode: string | null;
  reason: string;
  /** The WSManFault Code attribute: a Windows error number such as 5 (access denied) or 2150858793. */
  wsmanCode: string | null;
}

export function faultOf(envelope: SoapEnvelope): SoapFault | null {
  const fault = childOf(envelope.body, NS.soap, 'Fault');
  if (!fault) return null;
  const code = childOf(fault, NS.soap, 'Code');
  const wsmanFault = findAll(fault, NS.fault, 'WSManFault')[0];
  const message = wsmanFault ? findAll(wsmanFault, NS.fault, 'Message').at(-1) : undefined;
  const reasonText = childOf(childOf(fault, NS.soap, 'Reason'), NS.soap, 'Text')?.text;
  return {
    code: childOf(code, NS.soap, 'Value')?.text.trim() ?? '',
    subcode: childOf(childOf(code, NS.soap, 'Subcode'), NS.soap, 'Value')?.text.trim() ?? null,
    reason: (message?.text || reasonText || 'no reason given').replace(/\s+/g, ' ').trim(),
    wsmanCode: wsmanFault?.attributes.Code ?? null,
  };
}

/** The ShellId of a CreateResponse: the ShellId selector of the created resource, or the rsp:Shell's ShellId. */
export function createdShellId(envelope: SoapEnvelope): string | null {
  const selector = findAll(envelope.body, NS.wsman, 'Selector').find((s) => s.attributes.Name === 'ShellId');
  const id = selector?.text.trim() || findAll(envelope.body, NS.shell, 'ShellId')[0]?.text.trim();
  return id || null;
}

export function commandIdOf(envelope: SoapEnvelope): string | null {
  return findAll(envelope.body, NS.shell, 'CommandId')[0]?.text.trim() || null;
}

export interface ReceivedOutput {
  chunks: { stream: string; data: Buffer }[];
  done: boolean;
  exitCode: number | null;
}

export function receivedOutput(envelope: SoapEnvelope, commandId: string): ReceivedOutput {
  const response = childOf(envelope.body, NS.shell, 'ReceiveResponse');
  if (!response) throw new SyntaxError('the answer to Receive has no ReceiveResponse');
  const chunks = findAll(response, NS.shell, 'Stream')
    .filter((s) => (s.attributes.CommandId ?? commandId).toLowerCase() === commandId.toLowerCase())
    .map((s) => ({ stream: s.attributes.Name ?? '', data: Buffer.from(s.text.replace(/\s+/g, ''), 'base64') }));
  const state = findAll(response, NS.shell, 'CommandState')[0];
  const done = state?.attributes.State === COMMAND_STATE_DONE;
  const exitText = state ? childOf(state, NS.shell, 'ExitCode')?.text.trim() : undefined;
  const exitCode = done && exitText !== undefined && /^-?\d+$/.test(exitText) ? Number(exitText) : null;
  return { chunks, done, exitCode };
}
