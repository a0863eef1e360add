import { describe, expect, test } from 'vitest';
import {
  ACTION,
  commandIdOf,
  commandRequest,
  createdShellId,
  createShellRequest,
  faultOf,
  NS,
  OPERATION_TIMED_OUT_CODE,
  readEnvelope,
  receivedOutput,
  receiveRequest,
  sendRequest,
  SHELL_RESOURCE_URI,
  SIGNAL_TERMINATE,
  signalRequest,
} from './wsman-messages.ts';
import { childOf, parseXml } from './xml-document.ts';

// Answers as printed in [MS-WSMV] 4.7.1 to 4.7.3 (line breaks inside values included), and a TimedOut fault.
const CREATE_RESPONSE = `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
<s:Header><wsa:Action>
http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse
</wsa:Action><wsa:MessageID>uuid:1BD7E077-34CD-46F9-8AC2-F7D004C3D858</wsa:MessageID><wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>
<wsa:RelatesTo>uuid:AF6A2E07-BA33-496E-8AFA-E77D241A2F2F</wsa:RelatesTo></s:Header>
<s:Body><wst:ResourceCreated xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">
<wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address>
<wsa:ReferenceParameters><wsman:ResourceURI>
http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd
</wsman:ResourceURI><wsman:SelectorSet><wsman:Selector Name="ShellId">
uuid:C443F44F-28E4-486F-A5A1-12745F90CF5A
</wsman:Selector></wsman:SelectorSet></wsa:ReferenceParameters></wst:ResourceCreated></s:Body></s:Envelope>`;

const COMMAND_RESPONSE = `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
<s:Header><wsa:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse</wsa:Action></s:Header>
<s:Body><rsp:CommandResponse xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">
<rsp:CommandId>77df7bb6-b5a0-4777-abd9-9823c0774074</rsp:CommandId></rsp:CommandResponse></s:Body></s:Envelope>`;

const RECEIVE_RESPONSE = `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
<s:Header><wsa:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse</wsa:Action></s:Header>
<s:Body><rsp:ReceiveResponse xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" SequenceId="0">
<rsp:Stream xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" Name="stdout" CommandId="77df7bb6-b5a0-4777-abd9-9823c0774074">
ZDpcdGVtcFxvdXQudHh0LCBEZWxldGUgKFkvTik/IA==
</rsp:Stream>
<rsp:CommandState xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running" CommandId="77df7bb6-b5a0-4777-abd9-9823c0774074">
<rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse></s:Body></s:Envelope>`;

const TIMED_OUT = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Body><s:Fault>
<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>
<s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </s:Text></s:Reason>
<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793" Machine="server2022.domain.test">
<f:Message>The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </f:Message></f:WSManFault></s:Detail>
</s:Fault></s:Body></s:Envelope>`;

describe('reading WS-Man answers', () => {
  test('the ShellId of a CreateResponse', () => {
    const envelope = readEnvelope(CREATE_RESPONSE);
    expect(envelope.action).toBe('http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse');
    expect(createdShellId(envelope)).toBe('uuid:C443F44F-28E4-486F-A5A1-12745F90CF5A');
  });

  test('the CommandId of a CommandResponse', () => {
    expect(commandIdOf(readEnvelope(COMMAND_RESPONSE))).toBe('77df7bb6-b5a0-4777-abd9-9823c0774074');
  });

  test('base64 stream data and the command state of a ReceiveResponse', () => {
    const output = receivedOutput(readEnvelope(RECEIVE_RESPONSE), '77DF7BB6-B5A0-4777-ABD9-9823C0774074');
    expect(output.chunks.map((c) => ({ stream: c.stream, text: c.data.toString('utf8') }))).toEqual([{ stream: 'stdout', text: 'd:\\temp\\out.txt, Delete (Y/N)? ' }]);
    expect(output).toMatchObject({ done: false, exitCode: null });

    const done = RECEIVE_RESPONSE.replace('CommandState/Running', 'CommandState/Done').replace('<rsp:ExitCode>0<', '<rsp:ExitCode>3<');
    expect(receivedOutput(readEnvelope(done), '77df7bb6-b5a0-4777-abd9-9823c0774074')).toMatchObject({ done: true, exitCode: 3 });
  });

  test('the TimedOut fault a Receive gets when there is no output yet', () => {
    expect(faultOf(readEnvelope(TIMED_OUT))).toEqual({
      code: 's:Receiver',
      subcode: 'w:TimedOut',
      reason: 'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.',
      wsmanCode: OPERATION_TIMED_OUT_CODE,
    });
    expect(faultOf(readEnvelope(COMMAND_RESPONSE))).toBeNull();
  });

  test('refuses what is not a SOAP envelope, and documents with a DTD', () => {
    expect(() => readEnvelope('<html><body>It works!</body></html>')).toThrow();
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')).toThrow(/document type/);
    expect(() => parseXml('<a:x/>')).toThrow(/undeclared namespace prefix a/);
  });
});

describe('writing WS-Man requests', () => {
  const to = 'https://win.example:5986/wsman';

  test('every request addresses the cmd shell resource with its action, and selects the shell by ShellId', () => {
    const requests = [
      [createShellRequest(to, 60, 120), ACTION.create, null],
      [commandRequest(to, 60, 'S-1', 'powershell.exe', ['-NoLogo']), ACTION.command, 'S-1'],
      [sendRequest(to, 60, 'S-1', 'C-1', Buffer.from('{}'), true), ACTION.send, 'S-1'],
      [receiveRequest(to, 20, 'S-1', 'C-1'), ACTION.receive, 'S-1'],
      [signalRequest(to, 60, 'S-1', 'C-1', SIGNAL_TERMINATE), ACTION.signal, 'S-1'],
    ] as const;
    for (const [xml, action, shellId] of requests) {
      const envelope = readEnvelope(xml);
      expect(envelope.action).toBe(action);
      expect(childOf(envelope.header, NS.wsman, 'ResourceURI')?.text).toBe(SHELL_RESOURCE_URI);
      expect(childOf(envelope.header, NS.addressing, 'To')?.text).toBe(to);
      expect(childOf(envelope.header, NS.addressing, 'MessageID')?.text).toMatch(/^uuid:[0-9A-F-]{36}$/);
      expect(childOf(childOf(envelope.header, NS.wsman, 'SelectorSet'), NS.wsman, 'Selector')?.text ?? null).toBe(shellId);
    }
  });

  test('stdin travels base64-encoded in a Stream named stdin, with End="true" on the last chunk', () => {
    const envelope = readEnvelope(sendRequest(to, 60, 'S-1', 'C-1', Buffer.from('<&> "é"'), true));
    const stream = childOf(childOf(envelope.body, NS.shell, 'Send'), NS.shell, 'Stream');
    expect(stream?.attributes).toEqual({ Name: 'stdin', CommandId: 'C-1', End: 'true' });
    expect(Buffer.from(stream?.text ?? '', 'base64').toString('utf8')).toBe('<&> "é"');
  });
});
