import { describe, expect, test } from 'vitest';
import { encodeJobDocument, WRAPPER_ARGUMENTS, WRAPPER_COMMAND, WRAPPER_SCRIPT } from './powershell-wrapper.ts';

describe('the PowerShell wrapper', () => {
  test('is started as a fixed encoded command that fits a Windows command line', () => {
    expect(WRAPPER_COMMAND).toBe('powershell.exe');
    const encoded = WRAPPER_ARGUMENTS[WRAPPER_ARGUMENTS.indexOf('-EncodedCommand') + 1] ?? '';
    expect(Buffer.from(encoded, 'base64').toString('utf16le')).toBe(WRAPPER_SCRIPT);
    expect([WRAPPER_COMMAND, ...WRAPPER_ARGUMENTS].join(' ').length).toBeLessThan(32_767);
    // Nothing in it could be PowerShell's backtick escape, a ${...} splice from TypeScript, or a placeholder.
    expect(WRAPPER_SCRIPT).not.toMatch(/`|\{\{|undefined/);
  });

  test('the job document is ASCII JSON whose values are base64 of their UTF-8 text', () => {
    const document = encodeJobDocument({
      env: { DRYDOCK_PARAM_NOTE: 'é 🚀 "quoted" 2024-01-01T00:00:00Z' },
      script: 'Write-Output "héllo"',
      argv: ['--note=a b', ''],
    });
    expect(/^[\x20-\x7e]*$/.test(document.toString('latin1'))).toBe(true);
    const parsed = JSON.parse(document.toString('utf8')) as { v: number; env: { n: string; v: string }[]; script: string; argv: string[] };
    const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    expect(parsed.v).toBe(1);
    expect(parsed.env.map((e) => [e.n, text(e.v)])).toEqual([['DRYDOCK_PARAM_NOTE', 'é 🚀 "quoted" 2024-01-01T00:00:00Z']]);
    expect(text(parsed.script)).toBe('Write-Output "héllo"');
    expect(parsed.argv.map(text)).toEqual(['--note=a b', '']);
  });
});
