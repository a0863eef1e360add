import { describe, expect, test } from 'vitest';
import { md4 } from './md4.ts';
import { authenticateMessage, AV, negotiateMessage, ntlmv2Response, ntowfv2, parseAuthenticate, parseAvPairs, parseChallenge } from './ntlm.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('MD4', () => {
  test('matches the RFC 1320 test suite', () => {
    const suite: [string, string][] = [
      ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
      ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
      ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
      ['message digest', 'd9130a8164549fe818874806e1c7014b'],
      ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
      ['1234567890'.repeat(8), 'e33b4ddc9c38f2199c3e7b164fcc0536'],
    ];
    for (const [input, digest] of suite) expect(md4(Buffer.from(input, 'latin1')).toString('hex')).toBe(digest);
  });
});

// [MS-NLMP] 4.2.4: NTLMv2 authentication of User / Domain / "Password".
const SPEC_CHALLENGE = hex(`
  4e 54 4c 4d 53 53 50 00 02 00 00 00 0c 00 0c 00 38 00 00 00 33 82 8a e2 01 23 45 67 89 ab cd ef
  00 00 00 00 00 00 00 00 24 00 24 00 44 00 00 00 06 00 70 17 00 00 00 0f 53 00 65 00 72 00 76 00
  65 00 72 00 02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00
  65 00 72 00 00 00 00 00`);

describe('NTLMv2 ([MS-NLMP] 4.2.4)', () => {
  test('reads the example CHALLENGE message', () => {
    const challenge = parseChallenge(SPEC_CHALLENGE);
    expect(challenge.flags).toBe(0xe28a8233);
    expect(challenge.serverChallenge.toString('hex')).toBe('0123456789abcdef');
    expect(parseAvPairs(challenge.targetInfo)).toEqual([
      { id: AV.NB_DOMAIN_NAME, value: Buffer.from('Domain', 'utf16le') },
      { id: AV.NB_COMPUTER_NAME, value: Buffer.from('Server', 'utf16le') },
    ]);
  });

  test('computes the example NTOWFv2, NTProofStr, LMv2 response and session base key', () => {
    const responseKey = ntowfv2('Password', 'User', 'Domain');
    expect(responseKey).toEqual(hex('0c 86 8a 40 3b fd 7a 93 a3 00 1e f2 2e f0 2e 3f'));
    const challenge = parseChallenge(SPEC_CHALLENGE);
    const response = ntlmv2Response({
      responseKey,
      serverChallenge: challenge.serverChallenge,
      clientChallenge: Buffer.alloc(8, 0xaa),
      time: Buffer.alloc(8),
      targetInfo: challenge.targetInfo,
    });
    expect(response.ntProofStr).toEqual(hex('68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c'));
    expect(response.lmChallengeResponse).toEqual(hex('86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa'));
    expect(response.sessionBaseKey).toEqual(hex('8d e4 0c ca db c1 4a 82 f1 5c b0 ad 0d e9 5c a3'));
    // The temp blob that follows NTProofStr ([MS-NLMP] 4.2.4.1.3).
    expect(response.ntChallengeResponse.subarray(16)).toEqual(
      Buffer.concat([hex('01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 aa aa aa aa aa aa aa aa 00 00 00 00'), challenge.targetInfo, Buffer.alloc(4)]),
    );
  });

  test('an AUTHENTICATE message carries the account, a MIC flag and the channel binding', () => {
    const bindings = Buffer.alloc(16, 7);
    const message = authenticateMessage({
      negotiate: negotiateMessage(),
      challenge: parseChallenge(SPEC_CHALLENGE),
      username: 'Domain\\User',
      password: 'Password',
      channelBindings: bindings,
      targetName: 'HTTP/server',
      clientChallenge: Buffer.alloc(8, 0xaa),
    });
    const parsed = parseAuthenticate(message);
    expect({ user: parsed.user, domain: parsed.domain }).toEqual({ user: 'User', domain: 'Domain' });
    expect(parsed.mic.equals(Buffer.alloc(16))).toBe(false);
    const pairs = parseAvPairs(parsed.ntChallengeResponse.subarray(16 + 28));
    expect(pairs.find((p) => p.id === AV.CHANNEL_BINDINGS)?.value).toEqual(bindings);
    expect(pairs.find((p) => p.id === AV.FLAGS)?.value.readUInt32LE(0)).toBe(2);
    expect(pairs.find((p) => p.id === AV.TARGET_NAME)?.value.toString('utf16le')).toBe('HTTP/server');
    // No server timestamp in the example, so the LMv2 response is sent as computed.
    expect(parsed.lmChallengeResponse).toEqual(hex('86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa'));
  });

  test('a UPN goes whole as the user name with an empty domain', () => {
    const parsed = parseAuthenticate(
      authenticateMessage({
        negotiate: negotiateMessage(),
        challenge: parseChallenge(SPEC_CHALLENGE),
        username: 'ops@corp.example',
        password: 'pw',
        channelBindings: Buffer.alloc(16),
        targetName: 'HTTP/server',
      }),
    );
    expect({ user: parsed.user, domain: parsed.domain }).toEqual({ user: 'ops@corp.example', domain: '' });
  });
});
