import { createHash, createHmac, randomBytes } from 'node:crypto';
import { md4 } from './md4.ts';

/**
 * The client side of NTLM authentication ([MS-NLMP]) as WinRM uses it over HTTPS: NEGOTIATE, CHALLENGE and
 * AUTHENTICATE messages with an NTLMv2 response, a MIC over the three messages, and the TLS channel binding
 * (Extended Protection) in the response's AV pairs. No signing or sealing: the transport is TLS, so no session
 * security is negotiated, and NTLM over plain HTTP (which WinRM would require to be encrypted) is not offered.
 */

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export const FLAGS = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  N128: 0x20000000,
  N56: 0x80000000,
} as const;

const CLIENT_FLAGS =
  FLAGS.UNICODE | FLAGS.OEM | FLAGS.REQUEST_TARGET | FLAGS.NTLM | FLAGS.ALWAYS_SIGN | FLAGS.EXTENDED_SESSIONSECURITY | FLAGS.VERSION | FLAGS.N128 | FLAGS.N56;

/** AV pair ids ([MS-NLMP] 2.2.2.1). */
export const AV = { EOL: 0, NB_COMPUTER_NAME: 1, NB_DOMAIN_NAME: 2, FLAGS: 6, TIMESTAMP: 7, TARGET_NAME: 9, CHANNEL_BINDINGS: 10 } as const;
const AV_FLAG_MIC_PRESENT = 0x00000002;

/** Windows 10, NTLMSSP revision 15: the Version field is informational only. */
const VERSION = Buffer.from([10, 0, 0, 0, 0, 0, 0, 0x0f]);
const AUTHENTICATE_HEADER = 88;
const MIC_OFFSET = 72;
/** 100 ns intervals between 1601-01-01 (FILETIME's epoch) and 1970-01-01. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;

export class NtlmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NtlmError';
  }
}

function utf16(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}

function hmacMd5(key: Buffer, ...data: Buffer[]): Buffer {
  const hmac = createHmac('md5', key);
  for (const part of data) hmac.update(part);
  return hmac.digest();
}

export function negotiateMessage(): Buffer {
  const message = Buffer.alloc(40);
  SIGNATURE.copy(message, 0);
  message.writeUInt32LE(1, 8);
  message.writeUInt32LE(CLIENT_FLAGS >>> 0, 12);
  // Domain and workstation fields stay empty (offset 40, length 0): the server fills in its own.
  message.writeUInt32LE(40, 20);
  message.writeUInt32LE(40, 28);
  VERSION.copy(message, 32);
  return message;
}

export interface Challenge {
  flags: number;
  serverChallenge: Buffer;
  targetInfo: Buffer;
  /** The whole message as received, which the MIC covers. */
  raw: Buffer;
}

function field(message: Buffer, at: number, what: string): Buffer {
  if (message.length < at + 8) throw new NtlmError(`the NTLM message is too short for its ${what}`);
  const length = message.readUInt16LE(at);
  const offset = message.readUInt32LE(at + 4);
  if (offset + length > message.length) throw new NtlmError(`the NTLM message's ${what} lies outside the message`);
  return message.subarray(offset, offset + length);
}

export function parseChallenge(message: Buffer): Challenge {
  if (message.length < 32 || !message.subarray(0, 8).equals(SIGNATURE) || message.readUInt32LE(8) !== 2) {
    throw new NtlmError('the server did not answer with an NTLM CHALLENGE message');
  }
  const flags = message.readUInt32LE(20);
  const targetInfo = message.length >= 48 && flags & FLAGS.TARGET_INFO ? field(message, 40, 'target information') : Buffer.alloc(0);
  return { flags, serverChallenge: Buffer.from(message.subarray(24, 32)), targetInfo: Buffer.from(targetInfo), raw: Buffer.from(message) };
}

export function parseAvPairs(info: Buffer): { id: number; value: Buffer }[] {
  const pairs: { id: number; value: Buffer }[] = [];
  for (let at = 0; at + 4 <= info.length; ) {
    const id = info.readUInt16LE(at);
    const length = info.readUInt16LE(at + 2);
    if (id === AV.EOL) return pairs;
    if (at + 4 + length > info.length) throw new NtlmError('the target information is malformed');
    pairs.push({ id, value: Buffer.from(info.subarray(at + 4, at + 4 + length)) });
    at += 4 + length;
  }
  return pairs;
}

function encodeAvPairs(pairs: { id: number; value: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const { id, value } of [...pairs, { id: AV.EOL, value: Buffer.alloc(0) }]) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value);
  }
  return Buffer.concat(parts);
}

/** NTOWFv2: HMAC-MD5 keyed with MD4(UTF-16LE(password)) over UTF-16LE(UPPER(user) + domain). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(md4(utf16(password)), utf16(user.toUpperCase() + domain));
}

export interface Ntlmv2Response {
  ntChallengeResponse: Buffer;
  ntProofStr: Buffer;
  lmChallengeResponse: Buffer;
  sessionBaseKey: Buffer;
}

/** [MS-NLMP] 3.3.2 ComputeResponse for NTLMv2; `time` is a FILETIME, 8 bytes little-endian. */
export function ntlmv2Response(input: { responseKey: Buffer; serverChallenge: Buffer; clientChallenge: Buffer; time: Buffer; targetInfo: Buffer }): Ntlmv2Response {
  const temp = Buffer.concat([
    Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]),
    input.time,
    input.clientChallenge,
    Buffer.alloc(4),
    input.targetInfo,
    Buffer.alloc(4),
  ]);
  const ntProofStr = hmacMd5(input.responseKey, input.serverChallenge, temp);
  return {
    ntChallengeResponse: Buffer.concat([ntProofStr, temp]),
    ntProofStr,
    lmChallengeResponse: Buffer.concat([hmacMd5(input.responseKey, input.serverChallenge, input.clientChallenge), input.clientChallenge]),
    sessionBaseKey: hmacMd5(input.responseKey, ntProofStr),
  };
}

/**
 * The channel binding token for a TLS server certificate (RFC 5929 tls-server-end-point): the certificate
 * hashed with its signature's hash (SHA-256 for MD5 and SHA-1), in a gss_channel_bindings_struct, MD5-hashed.
 */
export function channelBindingsHash(certificateDer: Buffer): Buffer {
  const applicationData = Buffer.concat([Buffer.from('tls-server-end-point:', 'latin1'), createHash(signatureHash(certificateDer)).update(certificateDer).digest()]);
  const struct = Buffer.alloc(20);
  struct.writeUInt32LE(applicationData.length, 16);
  return createHash('md5').update(struct).update(applicationData).digest();
}

const SIGNATURE_HASHES: Record<string, string> = {
  '2a864886f70d01010c': 'sha384', // sha384WithRSAEncryption
  '2a864886f70d01010d': 'sha512', // sha512WithRSAEncryption
  '2a8648ce3d040303': 'sha384', // ecdsa-with-SHA384
  '2a8648ce3d040304': 'sha512', // ecdsa-with-SHA512
};

/** The hash of a DER certificate's signatureAlgorithm (its second top-level element); SHA-256 unless stronger. */
function signatureHash(der: Buffer): string {
  try {
    const header = (at: number) => {
      const first = der[at + 1] ?? 0;
      if (first < 0x80) return { content: at + 2, length: first };
      const bytes = first & 0x7f;
      let length = 0;
      for (let i = 0; i < bytes; i++) length = length * 256 + (der[at + 2 + i] ?? 0);
      return { content: at + 2 + bytes, length };
    };
    const certificate = header(0);
    const tbs = header(certificate.content);
    const algorithm = header(tbs.content + tbs.length);
    const oid = header(algorithm.content);
    if (der[algorithm.content] !== 0x06) return 'sha256';
    return SIGNATURE_HASHES[der.subarray(oid.content, oid.content + oid.length).toString('hex')] ?? 'sha256';
  } catch {
    return 'sha256';
  }
}

export function splitUsername(username: string): { user: string; domain: string } {
  const slash = username.indexOf('\\');
  // A UPN (user@domain) goes whole as the user name with an empty domain, as Windows clients send it.
  return slash === -1 ? { user: username, domain: '' } : { user: username.slice(slash + 1), domain: username.slice(0, slash) };
}

export function filetime(date: Date): Buffer {
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(BigInt(date.getTime()) * 10000n + FILETIME_UNIX_EPOCH);
  return time;
}

export interface AuthenticateInput {
  negotiate: Buffer;
  challenge: Challenge;
  username: string;
  password: string;
  /** MD5 channel binding token of the TLS connection, from channelBindingsHash. */
  channelBindings: Buffer;
  /** The service principal the client means to reach, such as HTTP/host. */
  targetName: string;
  clientChallenge?: Buffer;
  now?: Date;
}

export function authenticateMessage(input: AuthenticateInput): Buffer {
  const { challenge } = input;
  if (!(challenge.flags & FLAGS.UNICODE)) throw new NtlmError('the server does not offer Unicode NTLM');
  const { user, domain } = splitUsername(input.username);
  const serverPairs = parseAvPairs(challenge.targetInfo);
  const serverTime = serverPairs.find((p) => p.id === AV.TIMESTAMP)?.value;
  const pairs = serverPairs.filter((p) => p.id !== AV.FLAGS && p.id !== AV.CHANNEL_BINDINGS && p.id !== AV.TARGET_NAME);
  const flagsValue = Buffer.alloc(4);
  flagsValue.writeUInt32LE((readFlags(serverPairs) | AV_FLAG_MIC_PRESENT) >>> 0);
  pairs.push({ id: AV.FLAGS, value: flagsValue }, { id: AV.CHANNEL_BINDINGS, value: input.channelBindings }, { id: AV.TARGET_NAME, value: utf16(input.targetName) });

  const response = ntlmv2Response({
    responseKey: ntowfv2(input.password, user, domain),
    serverChallenge: challenge.serverChallenge,
    clientChallenge: input.clientChallenge ?? randomBytes(8),
    time: serverTime && serverTime.length === 8 ? serverTime : filetime(input.now ?? new Date()),
    targetInfo: encodeAvPairs(pairs),
  });
  // With a server timestamp the LMv2 response must be zeros ([MS-NLMP] 3.1.5.1.2).
  const lm = serverTime ? Buffer.alloc(24) : response.lmChallengeResponse;
  const payload: Buffer[] = [utf16(domain), utf16(user), Buffer.alloc(0), lm, response.ntChallengeResponse, Buffer.alloc(0)];

  const header = Buffer.alloc(AUTHENTICATE_HEADER);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  // Field order in the header: LM, NT, domain, user, workstation, session key.
  const headerOrder = [3, 4, 0, 1, 2, 5];
  const offsets: number[] = [];
  let offset = AUTHENTICATE_HEADER;
  for (const part of payload) {
    offsets.push(offset);
    offset += part.length;
  }
  headerOrder.forEach((index, slot) => {
    const part = payload[index]!;
    header.writeUInt16LE(part.length, 12 + slot * 8);
    header.writeUInt16LE(part.length, 14 + slot * 8);
    header.writeUInt32LE(offsets[index]!, 16 + slot * 8);
  });
  header.writeUInt32LE(((CLIENT_FLAGS & challenge.flags) | FLAGS.UNICODE | FLAGS.NTLM) >>> 0, 60);
  VERSION.copy(header, 64);
  const message = Buffer.concat([header, ...payload]);
  hmacMd5(response.sessionBaseKey, input.negotiate, challenge.raw, message).copy(message, MIC_OFFSET);
  return message;
}

function readFlags(pairs: { id: number; value: Buffer }[]): number {
  const value = pairs.find((p) => p.id === AV.FLAGS)?.value;
  return value && value.length === 4 ? value.readUInt32LE(0) : 0;
}

export interface ParsedAuthenticate {
  flags: number;
  user: string;
  domain: string;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  mic: Buffer;
}

/** Reads an AUTHENTICATE message (what a server, or a test's fake server, receives). */
export function parseAuthenticate(message: Buffer): ParsedAuthenticate {
  if (message.length < 64 || !message.subarray(0, 8).equals(SIGNATURE) || message.readUInt32LE(8) !== 3) {
    throw new NtlmError('not an NTLM AUTHENTICATE message');
  }
  return {
    lmChallengeResponse: Buffer.from(field(message, 12, 'LM response')),
    ntChallengeResponse: Buffer.from(field(message, 20, 'NT response')),
    domain: field(message, 28, 'domain').toString('utf16le'),
    user: field(message, 36, 'user name').toString('utf16le'),
    flags: message.readUInt32LE(60),
    mic: Buffer.from(message.subarray(MIC_OFFSET, MIC_OFFSET + 16)),
  };
}

export const NTLM_MIC_OFFSET = MIC_OFFSET;
