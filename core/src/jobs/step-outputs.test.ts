import { describe, expect, it } from 'vitest';
import { ManifestSchema } from '../manifest.ts';
import { OutputDeclarationsSchema } from './output-declaration.ts';
import { MAX_OUTPUT_FILE_BYTES, MAX_OUTPUT_KEYS, parseOutputFile, readStepOutputs } from './step-outputs.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('the DRYDOCK_OUTPUT file', () => {
  it('reads key=value lines, the value after the first "="', () => {
    expect(parseOutputFile('version=2.4.1\nurl=https://x/?a=b\n')).toEqual({ ok: true, values: { version: '2.4.1', url: 'https://x/?a=b' } });
  });

  it('reads multi-line values between key<<DELIMITER and the delimiter line, as GITHUB_OUTPUT does', () => {
    const text = ['notes<<EOF', 'first line', '', 'version=not a key here', 'EOF', 'after=1', ''].join('\n');
    expect(parseOutputFile(text)).toEqual({ ok: true, values: { notes: 'first line\n\nversion=not a key here', after: '1' } });
  });

  it('takes Windows line ends, skips empty lines, and keeps the last value of a key', () => {
    expect(parseOutputFile('a=1\r\n\r\nb<<END\r\nx\r\nEND\r\na=2\r\n')).toEqual({ ok: true, values: { a: '2', b: 'x' } });
  });

  it('reports every problem with its line', () => {
    const result = parseOutputFile(['just text', '=empty key', 'bad key=1', 'ok=1', 'x<<', 'body<<EOF', 'never ended'].join('\n'));
    expect(result).toEqual({
      ok: false,
      problems: [
        { line: 1, message: 'the line is neither key=value nor key<<DELIMITER' },
        { line: 2, message: 'the key is empty' },
        { line: 3, message: '"bad key" is not a key: letters, digits, "_" and "-", starting with a letter or "_"' },
        { line: 5, message: 'x<< needs a delimiter after "<<", a word that no line of the value is, like EOF' },
        { line: 6, message: 'the value of body started here is never ended: no line is exactly "EOF"' },
      ],
    });
  });

  it('bounds the number of keys', () => {
    const text = Array.from({ length: MAX_OUTPUT_KEYS + 5 }, (_, i) => `k${i}=${i}`).join('\n');
    const result = parseOutputFile(text);
    expect(result).toEqual({ ok: false, problems: [{ line: MAX_OUTPUT_KEYS + 1, message: `more than ${MAX_OUTPUT_KEYS} outputs: write fewer keys` }] });
  });
});

describe('typed outputs', () => {
  const declared = OutputDeclarationsSchema.parse([
    { name: 'version', type: 'string' },
    { name: 'replicas', type: 'integer' },
    { name: 'ready', type: 'boolean' },
    { name: 'nodes', type: 'host_list' },
    { name: 'mode', type: 'enum', options: ['blue', 'green'] },
    { name: 'notes', type: 'multiline' },
    { name: 'day', type: 'date' },
  ]);

  it('turns the file into values of the declared types and drops what is not declared', () => {
    const file = 'version=2.4.1\nreplicas= 3\nready=True\nnodes=web-1, web-2\nmode=green\nnotes<<EOF\na\nb\nEOF\nday=2026-02-28\nextra=1\n';
    expect(readStepOutputs(bytes(file), declared, 'script check')).toEqual({
      ok: true,
      outputs: { version: '2.4.1', replicas: 3, ready: true, nodes: ['web-1', 'web-2'], mode: 'green', notes: 'a\nb', day: '2026-02-28' },
      ignored: ['extra'],
    });
  });

  it('refuses values that are not of their declared type, saying what the script wrote', () => {
    const result = readStepOutputs(bytes('replicas=three\nmode=red\nversion<<EOF\na\nb\nEOF\nday=2026-02-30\nnodes=Web_1\n'), declared, 'script check');
    expect(result).toEqual({
      ok: false,
      problems: [
        'output version must be a single line (declared string in script check; the script wrote "a\nb")',
        'output replicas must be a number (declared integer in script check; the script wrote "three")',
        'output nodes must list host ids (declared host_list in script check; the script wrote "Web_1")',
        'output mode must be one of: blue, green (declared enum in script check; the script wrote "red")',
        'output day is not a real date (declared date in script check; the script wrote "2026-02-30")',
      ],
    });
  });

  it('reads what PowerShell writes: UTF-16 with a byte order mark, or UTF-8 with one', () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...Array.from('version=2.5\r\n').flatMap((c) => [c.charCodeAt(0), 0])]);
    expect(readStepOutputs(utf16, declared, 'script check')).toEqual({ ok: true, outputs: { version: '2.5' }, ignored: [] });
    expect(readStepOutputs(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('version=2.6')]), declared, 'script check')).toEqual({ ok: true, outputs: { version: '2.6' }, ignored: [] });
  });

  it('refuses a file that is too large or not text, with what to do', () => {
    expect(readStepOutputs(new Uint8Array(MAX_OUTPUT_FILE_BYTES + 1), declared, 's')).toEqual({
      ok: false,
      problems: [`the DRYDOCK_OUTPUT file has ${MAX_OUTPUT_FILE_BYTES + 1} bytes; at most ${MAX_OUTPUT_FILE_BYTES} are read: put large data in an artifact and output its name`],
    });
    expect(readStepOutputs(new Uint8Array([0x76, 0x3d, 0xc3, 0x28]), declared, 's')).toEqual({
      ok: false,
      problems: ['the DRYDOCK_OUTPUT file is not UTF-8 text: write it as UTF-8 (in PowerShell, Add-Content -Encoding utf8)'],
    });
  });

  it('keeps an empty host list as a value', () => {
    expect(readStepOutputs(bytes('nodes=\n'), declared, 's')).toEqual({ ok: true, outputs: { nodes: [] }, ignored: [] });
  });
});

describe('outputs in a manifest', () => {
  const base = { id: 'check-version', name: 'Check version', command_template: 'cat /etc/app/version' };

  it('declares typed outputs, without changing manifests that have none', () => {
    const manifest = ManifestSchema.parse({ ...base, outputs: [{ name: 'version', type: 'string', description: 'installed version' }, { name: 'mode', type: 'enum', options: ['a', 'b'] }] });
    expect(manifest.outputs).toEqual([{ name: 'version', type: 'string', description: 'installed version' }, { name: 'mode', type: 'enum', options: ['a', 'b'] }]);
    expect('outputs' in ManifestSchema.parse(base)).toBe(false);
  });

  it('refuses a secret output, a duplicate, and outputs on a host operation', () => {
    const issues = (input: object) => ManifestSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ ...base, outputs: [{ name: 'token', type: 'secret' }] })).toEqual([
      'outputs.0.type: an output\'s type is one of string, multiline, integer, number, boolean, enum, date, host, host_list (a secret cannot be an output: output a Vault reference instead)',
    ]);
    expect(issues({ ...base, outputs: [{ name: 'v', type: 'string' }, { name: 'v', type: 'integer' }] })).toEqual(['outputs.1.name: output "v" is declared twice']);
    expect(issues({ id: 'op', name: 'Op', operation: { type: 'file_validation', path: '/etc/hosts', checks: ['exists'] }, outputs: [{ name: 'v', type: 'string' }] })).toEqual([
      'outputs: a host operation writes no DRYDOCK_OUTPUT file: outputs apply to scripts and command templates',
    ]);
  });
});
