/**
 * MD4 (RFC 1320), which NTLM's password hash needs. OpenSSL 3 moved MD4 to its legacy provider, so
 * `crypto.createHash('md4')` fails on this Node; this is used only for that hash, never as a security primitive.
 */

const ROUNDS: { f: (x: number, y: number, z: number) => number; k: number; order: number[]; shifts: number[] }[] = [
  { f: (x, y, z) => (x & y) | (~x & z), k: 0, order: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], shifts: [3, 7, 11, 19] },
  { f: (x, y, z) => (x & y) | (x & z) | (y & z), k: 0x5a827999, order: [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15], shifts: [3, 5, 9, 13] },
  { f: (x, y, z) => x ^ y ^ z, k: 0x6ed9eba1, order: [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15], shifts: [3, 9, 11, 15] },
];

function rotl(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

export function md4(input: Buffer): Buffer {
  const padded = Math.ceil((input.length + 9) / 64) * 64;
  const message = Buffer.alloc(padded);
  input.copy(message);
  message[input.length] = 0x80;
  message.writeUInt32LE((input.length * 8) >>> 0, padded - 8);
  message.writeUInt32LE(Math.floor(input.length / 0x20000000), padded - 4);

  const state = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const words = new Array<number>(16);
  for (let block = 0; block < padded; block += 64) {
    for (let i = 0; i < 16; i++) words[i] = message.readUInt32LE(block + i * 4);
    const h = [...state] as [number, number, number, number];
    for (const { f, k, order, shifts } of ROUNDS) {
      for (let i = 0; i < 16; i++) {
        // Registers are updated in the order a, d, c, b; each step mixes the other three in rotation.
        const t = (4 - (i % 4)) % 4;
        const sum = (h[t]! + f(h[(t + 1) % 4]!, h[(t + 2) % 4]!, h[(t + 3) % 4]!) + words[order[i]!]! + k) | 0;
        h[t] = rotl(sum, shifts[i % 4]!);
      }
    }
    for (let i = 0; i < 4; i++) state[i] = (state[i]! + h[i]!) | 0;
  }
  const digest = Buffer.alloc(16);
  state.forEach((word, i) => digest.writeUInt32LE(word >>> 0, i * 4));
  return digest;
}
