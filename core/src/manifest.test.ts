import { describe, expect, it } from 'vitest';
import {
  coerceFormValues,
  ManifestSchema,
  MAX_PARAM_VALUE_BYTES,
  MAX_PARAMS_TOTAL_BYTES,
  type Parameter,
  paramsSchema,
  redactParams,
  renderCommand,
  SECRET_MASK,
  StoredManifestSchema,
  templateWords,
  validateParams,
} from './manifest.ts';

const base = { id: 'restart-service', name: 'Restart a service', script: 'scripts/restart.sh', interpreter: 'bash' };

/** Every problem as `path: message`, the way the catalog shows it. */
function problems(input: unknown): string[] {
  const result = ManifestSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function parameters(...defs: unknown[]): Parameter[] {
  return ManifestSchema.parse({ ...base, parameters: defs }).parameters;
}

function fieldsOf(params: readonly Parameter[], input: Record<string, unknown>): Record<string, string[]> {
  const result = validateParams(params, input);
  if (result.ok) throw new Error(`expected validation to fail, got ${JSON.stringify(result.values)}`);
  return result.fields;
}

describe('ManifestSchema', () => {
  it('accepts a minimal manifest and fills in the defaults', () => {
    const m = ManifestSchema.parse({ ...base, version: 3 });
    expect(m).toMatchObject({
      id: 'restart-service',
      description: '',
      category: 'general',
      tags: [],
      version: '3',
      timeout: 300,
      retries: 0,
      retry_delay: 5,
      parameters: [],
    });
  });

  it('accepts every parameter type', () => {
    const ps = parameters(
      { name: 'service', type: 'string', pattern: '^[a-z-]+$', min_length: 1, max_length: 40 },
      { name: 'notes', type: 'multiline' },
      { name: 'token', type: 'secret', min_length: 8 },
      { name: 'count', type: 'integer', min: 0, max: 10, default: 1 },
      { name: 'ratio', type: 'number', min: 0, max: 1 },
      { name: 'dry_run', type: 'boolean', default: true },
      { name: 'level', type: 'enum', options: ['low', 'high'], default: 'low' },
    );
    expect(ps.map((p) => p.type)).toEqual(['string', 'multiline', 'secret', 'integer', 'number', 'boolean', 'enum']);
    expect(ps.every((p) => p.required === false)).toBe(true);
  });

  it('rejects an unknown field, naming it', () => {
    expect(problems({ ...base, timout: 30 })).toEqual([expect.stringContaining('"timout"')]);
  });

  it('rejects an unknown field inside a parameter', () => {
    expect(problems({ ...base, parameters: [{ name: 'service', type: 'string', requried: true }] })).toEqual([
      expect.stringMatching(/^parameters\.0: .*"requried"/),
    ]);
  });

  it.each(['Restart', 'restart_service', '-restart', ''])('rejects the id %j with the naming rule', (id) => {
    expect(problems({ ...base, id })).toEqual(['id: id is lower-kebab-case: letters, digits and "-"']);
  });

  it('rejects an interpreter it cannot run, listing the ones it can', () => {
    const [problem] = problems({ ...base, interpreter: 'ruby' });
    expect(problem).toMatch(/^interpreter: /);
    for (const known of ['bash', 'sh', 'python', 'node']) expect(problem).toContain(known);
  });

  it('rejects a parameter name that is not lower_snake_case', () => {
    expect(problems({ ...base, parameters: [{ name: 'Service-Name', type: 'string' }] })).toEqual([
      'parameters.0.name: parameter names are lower_snake_case, starting with a letter',
    ]);
  });

  it('rejects an unknown parameter type', () => {
    expect(problems({ ...base, parameters: [{ name: 'colour', type: 'color' }] })).toEqual([expect.stringMatching(/^parameters\.0\.type: /)]);
  });

  it('rejects a duplicate parameter at the second definition', () => {
    expect(
      problems({
        ...base,
        parameters: [
          { name: 'service', type: 'string' },
          { name: 'service', type: 'integer' },
        ],
      }),
    ).toEqual(['parameters.1.name: duplicate parameter "service"']);
  });

  it('rejects an enum default that is not among the options', () => {
    expect(problems({ ...base, parameters: [{ name: 'level', type: 'enum', options: ['low', 'high'], default: 'medium' }] })).toEqual([
      'parameters.0.default: default is not one of the options',
    ]);
  });

  it('rejects an enum without options', () => {
    expect(problems({ ...base, parameters: [{ name: 'level', type: 'enum', options: [] }] })).toEqual([expect.stringMatching(/^parameters\.0\.options: /)]);
  });

  it('rejects a pattern that is not a regular expression', () => {
    expect(problems({ ...base, parameters: [{ name: 'service', type: 'string', pattern: '([a-z' }] })).toEqual([
      'parameters.0.pattern: pattern is not a regular expression Drydock can check: missing closing ]: `[a-z`',
    ]);
  });

  it.each([
    ['(a+)\\1', 'pattern uses a backreference, which cannot be checked in linear time'],
    ['(?<word>a+)-\\k<word>', 'pattern uses a backreference, which cannot be checked in linear time'],
    ['^(?=.*[0-9]).{8,}$', 'pattern uses a lookahead or lookbehind, which cannot be checked in linear time'],
    ['(?<!x)y', 'pattern uses a lookahead or lookbehind, which cannot be checked in linear time'],
    ['a{2000}', 'pattern is not a regular expression Drydock can check: invalid repeat count'],
  ])('rejects the pattern %s, which only a backtracking engine runs, with the reason', (pattern, reason) => {
    const [problem] = problems({ ...base, parameters: [{ name: 'service', type: 'string', pattern }] });
    expect(problem).toContain(`parameters.0.pattern: ${reason}`);
  });

  it.each(['^[a-z0-9.-]+$', '^(a+)+$', '\\d{3}-\\d{4}', '^(?<user>[a-z]+)@example\\.com$', '^caf\\u00e9$', '[\\]a]', 'C:\\\\1'])(
    'accepts the pattern %s',
    (pattern) => {
      expect(problems({ ...base, parameters: [{ name: 'service', type: 'string', pattern }] })).toEqual([]);
    },
  );

  it.each([
    ['default', '2026-13-45'],
    ['min', '2026-02-30'],
    ['max', '2025-00-10'],
  ])('rejects a date %s that is no real date (%s), with the reason', (field, day) => {
    expect(problems({ ...base, parameters: [{ name: 'day', type: 'date', [field]: day }] })).toEqual([
      `parameters.0.${field}: ${day} is not a real date (YYYY-MM-DD: month 01-12, a day that month has)`,
    ]);
  });

  it.each(['../../etc/passwd', '/etc/passwd', 'scripts/../../outside.sh', 'scripts\\..\\..\\outside.sh', 'scripts/a\0.sh'])(
    'rejects the script path %j, which leaves the repository',
    (script) => {
      expect(problems({ ...base, script })).toEqual(['script: script must be a path inside the repository (relative, without "..")']);
    },
  );

  it.each(['restart.sh', 'scripts/linux/restart.sh', 'scripts/v1..2/restart.sh'])('accepts the script path %j', (script) => {
    expect(problems({ ...base, script })).toEqual([]);
  });

  it('rejects timeouts and retries out of range', () => {
    expect(problems({ ...base, timeout: 0, retries: 11 }).map((p) => p.split(':')[0])).toEqual(['timeout', 'retries']);
  });
});

describe('capture', () => {
  it('refuses an artifact glob Drydock cannot match, with the reason', () => {
    expect(problems({ ...base, capture: { artifacts: ['out/{a,b', `out/${'x'.repeat(300)}`] } })).toEqual([
      'capture.artifacts.0: not a glob Drydock can match: a { has no closing }',
      'capture.artifacts.1: globs are at most 256 characters',
    ]);
  });

  it('captures nothing unless asked', () => {
    expect(ManifestSchema.parse(base).capture).toEqual({ environment_snapshot: false, artifacts: [], packages: [], services: [] });
  });

  it('naming packages or services turns the snapshot on, which records them; parsed again it stays so', () => {
    const m = ManifestSchema.parse({ ...base, capture: { packages: ['openssl', 'postgresql-15', 'libc6:amd64', 'g++'], services: ['nginx', 'getty@tty1'] } });
    expect(m.capture).toEqual({ environment_snapshot: true, artifacts: [], packages: ['openssl', 'postgresql-15', 'libc6:amd64', 'g++'], services: ['nginx', 'getty@tty1'] });
    expect(ManifestSchema.parse(m).capture).toEqual(m.capture);
  });

  it('refuses a snapshot turned off while it is asked to record packages', () => {
    expect(problems({ ...base, capture: { environment_snapshot: false, services: ['nginx'] } })).toEqual([
      'capture.environment_snapshot: packages and services are recorded in the environment snapshot; remove environment_snapshot: false',
    ]);
  });

  it.each(['-rf', '--all', 'nginx*', 'a b', '$(reboot)', 'x;y', '../etc', '', 'a'.repeat(129)])('refuses the name %j: names only, never an option, a pattern or a path', (name) => {
    expect(problems({ ...base, capture: { packages: [name] } })).toEqual([
      'capture.packages.0: package names are letters, digits and . + _ - @ : (starting with a letter or digit, at most 128)',
    ]);
  });

  it('refuses a name given twice, and more than 50 names', () => {
    expect(problems({ ...base, capture: { services: ['nginx', 'ssh', 'nginx'] } })).toEqual(['capture.services.2: service "nginx" is named twice']);
    expect(problems({ ...base, capture: { packages: Array.from({ length: 51 }, (_, i) => `p${i}`) } })).toEqual(['capture.packages: at most 50 packages']);
  });
});

describe('validateParams', () => {
  const all = parameters(
    { name: 'service', title: 'Service', type: 'string', required: true },
    { name: 'notes', title: 'Notes', type: 'multiline' },
    { name: 'token', title: 'API token', type: 'secret' },
    { name: 'count', title: 'Count', type: 'integer', default: 1 },
    { name: 'ratio', title: 'Ratio', type: 'number' },
    { name: 'dry_run', title: 'Dry run', type: 'boolean', default: true },
    { name: 'level', title: 'Level', type: 'enum', options: ['low', 'medium', 'high'], default: 'medium' },
  );

  it('accepts a value of each type and returns it typed', () => {
    const input = { service: 'nginx', notes: 'line one\nline two', token: 's3cr3t', count: 3, ratio: 0.25, dry_run: false, level: 'high' };
    expect(validateParams(all, input)).toEqual({ ok: true, values: input });
  });

  it('applies defaults to missing values and leaves optional values without default out', () => {
    expect(validateParams(all, { service: 'nginx' })).toEqual({
      ok: true,
      values: { service: 'nginx', count: 1, dry_run: true, level: 'medium' },
    });
  });

  it('treats an empty value of a non-text type as missing, so its default applies', () => {
    expect(validateParams(all, { service: 'nginx', count: '', level: '', ratio: null })).toEqual({
      ok: true,
      values: { service: 'nginx', count: 1, dry_run: true, level: 'medium' },
    });
  });

  it('uses a default to satisfy a required parameter', () => {
    const ps = parameters({ name: 'message', type: 'string', required: true, default: 'hello' });
    expect(validateParams(ps, {})).toEqual({ ok: true, values: { message: 'hello' } });
  });

  it('reports a missing required parameter by its title', () => {
    expect(fieldsOf(all, {})).toEqual({ service: ['Service is required'] });
  });

  it('refuses an empty or blank value for required text, as the red asterisk promises', () => {
    const ps = parameters(
      { name: 'service', title: 'Service', type: 'string', required: true, min_length: 3, pattern: '^[a-z]+$' },
      { name: 'notes', title: 'Notes', type: 'multiline', required: true },
      { name: 'token', title: 'API token', type: 'secret', required: true },
    );
    expect(fieldsOf(ps, { service: '', notes: '  \n ', token: ' ' })).toEqual({
      service: ['Service is required'],
      notes: ['Notes is required'],
      token: ['API token is required'],
    });
  });

  it('refuses an empty required text even where the manifest gives a default: the caller sent nothing', () => {
    const ps = parameters({ name: 'message', title: 'Message', type: 'string', required: true, default: 'hello' });
    expect(fieldsOf(ps, { message: '' })).toEqual({ message: ['Message is required'] });
  });

  it('keeps an empty optional text as it was sent', () => {
    const ps = parameters({ name: 'notes', type: 'string' });
    expect(validateParams(ps, { notes: '' })).toEqual({ ok: true, values: { notes: '' } });
  });

  it('falls back to the parameter name when there is no title', () => {
    expect(fieldsOf(parameters({ name: 'service', type: 'string', required: true }), {})).toEqual({ service: ['service is required'] });
  });

  it('rejects unknown parameters, naming them', () => {
    const fields = fieldsOf(all, { service: 'nginx', colour: 'red', size: 2 });
    expect(Object.values(fields).flat()).toEqual(['unknown parameters: colour, size']);
  });

  it('keys each error by parameter name', () => {
    const fields = fieldsOf(all, { count: 2.5, level: 'extreme', dry_run: 'yes' });
    expect(Object.keys(fields).sort()).toEqual(['count', 'dry_run', 'level', 'service']);
  });

  describe('string', () => {
    const ps = parameters({ name: 'host', title: 'Host', type: 'string', pattern: '^[a-z0-9.-]+$', min_length: 3, max_length: 12 });

    it.each([
      ['db', 'Host needs at least 3 characters'],
      ['db.example.internal', 'Host allows at most 12 characters'],
      ['DB_1', 'Host must match ^[a-z0-9.-]+$'],
    ])('rejects %j with "%s"', (host, message) => {
      expect(fieldsOf(ps, { host })).toEqual({ host: [message] });
    });

    it('must be a single line', () => {
      expect(fieldsOf(parameters({ name: 'host', title: 'Host', type: 'string' }), { host: 'db1\ndb2' })).toEqual({
        host: ['Host must be a single line'],
      });
    });

    it('gives one message for a value that breaks several rules', () => {
      const fields = fieldsOf(ps, { host: 'DB' });
      expect(fields.host).toHaveLength(1);
    });

    it('rejects a number where text is expected', () => {
      expect(fieldsOf(ps, { host: 42 })).toEqual({ host: ['Host must be text'] });
    });
  });

  it('multiline keeps newlines and applies its length limits', () => {
    const ps = parameters({ name: 'notes', title: 'Notes', type: 'multiline', max_length: 10 });
    expect(validateParams(ps, { notes: 'a\nb\nc' })).toEqual({ ok: true, values: { notes: 'a\nb\nc' } });
    expect(fieldsOf(ps, { notes: 'line one\nline two' })).toEqual({ notes: ['Notes allows at most 10 characters'] });
  });

  it('secret applies its minimum length', () => {
    const ps = parameters({ name: 'token', title: 'API token', type: 'secret', min_length: 8 });
    expect(fieldsOf(ps, { token: 'short' })).toEqual({ token: ['API token needs at least 8 characters'] });
  });

  describe('integer', () => {
    const ps = parameters({ name: 'count', title: 'Count', type: 'integer', min: 1, max: 10 });

    it.each([
      [0, 'Count must be at least 1'],
      [11, 'Count must be at most 10'],
      [2.5, 'Count must be a whole number'],
      ['3', 'Count must be a number'],
    ])('rejects %j with "%s"', (count, message) => {
      expect(fieldsOf(ps, { count })).toEqual({ count: [message] });
    });
  });

  it('number accepts fractions and applies its range', () => {
    const ps = parameters({ name: 'ratio', title: 'Ratio', type: 'number', min: 0, max: 1 });
    expect(validateParams(ps, { ratio: 0.75 })).toEqual({ ok: true, values: { ratio: 0.75 } });
    expect(fieldsOf(ps, { ratio: 1.5 })).toEqual({ ratio: ['Ratio must be at most 1'] });
    expect(fieldsOf(ps, { ratio: -0.1 })).toEqual({ ratio: ['Ratio must be at least 0'] });
  });

  it('boolean accepts only true or false', () => {
    const ps = parameters({ name: 'dry_run', title: 'Dry run', type: 'boolean' });
    expect(validateParams(ps, { dry_run: false })).toEqual({ ok: true, values: { dry_run: false } });
    expect(fieldsOf(ps, { dry_run: 'yes' })).toEqual({ dry_run: ['Dry run must be true or false'] });
  });

  it('enum lists its options when the value is not one of them', () => {
    const ps = parameters({ name: 'level', title: 'Level', type: 'enum', options: ['low', 'medium', 'high'] });
    expect(fieldsOf(ps, { level: 'extreme' })).toEqual({ level: ['Level must be one of: low, medium, high'] });
  });
});

describe('coerceFormValues', () => {
  const ps = parameters(
    { name: 'service', title: 'Service', type: 'string', required: true },
    { name: 'count', title: 'Count', type: 'integer', default: 1 },
    { name: 'ratio', title: 'Ratio', type: 'number' },
    { name: 'dry_run', title: 'Dry run', type: 'boolean' },
    { name: 'level', title: 'Level', type: 'enum', options: ['low', 'high'], default: 'low' },
  );

  it('turns form strings into the declared types', () => {
    expect(coerceFormValues(ps, { service: 'nginx', count: '3', ratio: '0.5', dry_run: 'on', level: 'high' })).toEqual({
      service: 'nginx',
      count: 3,
      ratio: 0.5,
      dry_run: true,
      level: 'high',
    });
  });

  it('reads an unchecked checkbox as false and leaves empty fields out so defaults apply', () => {
    const values = coerceFormValues(ps, { service: 'nginx', count: '', level: '' });
    expect(values).toEqual({ service: 'nginx', dry_run: false });
    expect(validateParams(ps, values)).toEqual({ ok: true, values: { service: 'nginx', count: 1, dry_run: false, level: 'low' } });
  });

  it('keeps a required text field left empty, so it is refused rather than filled with a default', () => {
    const withDefault = parameters({ name: 'message', title: 'Message', type: 'string', required: true, default: 'hello' });
    const values = coerceFormValues(withDefault, { message: '' });
    expect(values).toEqual({ message: '' });
    expect(fieldsOf(withDefault, values)).toEqual({ message: ['Message is required'] });
  });

  it('drops form fields the manifest does not declare', () => {
    expect(coerceFormValues(ps, { service: 'nginx', intent: 'start' })).toEqual({ service: 'nginx', dry_run: false });
  });

  it('keeps text that is not a number, so validation tells the user to enter a number', () => {
    const values = coerceFormValues(ps, { service: 'nginx', count: 'three' });
    expect(values.count).toBe('three');
    expect(fieldsOf(ps, values)).toEqual({ count: ['Count must be a number'] });
  });
});

describe('redactParams', () => {
  it('masks every secret and leaves the other values as they are', () => {
    const ps = parameters({ name: 'service', type: 'string' }, { name: 'token', type: 'secret' }, { name: 'password', type: 'secret' });
    expect(redactParams(ps, { service: 'nginx', token: 'abc123', password: 'hunter2' })).toEqual({
      service: 'nginx',
      token: SECRET_MASK,
      password: SECRET_MASK,
    });
  });
});

describe('paramsSchema', () => {
  const ps = parameters(
    { name: 'service', type: 'string', required: true },
    { name: 'count', type: 'integer', min: 1 },
  );

  it('accepts valid values and leaves optional ones out', () => {
    expect(paramsSchema(ps).parse({ service: 'nginx' })).toEqual({ service: 'nginx' });
  });

  it('rejects a missing required value, a value out of range and an unknown key', () => {
    const codes = (input: unknown) => paramsSchema(ps).safeParse(input).error?.issues.map((i) => i.code);
    expect(codes({})).toEqual(['invalid_type']);
    expect(codes({ service: 'nginx', count: 0 })).toEqual(['too_small']);
    expect(codes({ service: 'nginx', extra: 1 })).toEqual(['unrecognized_keys']);
  });
});

describe('command templates', () => {
  it('split into words before values are known, so a value never adds or splits words', () => {
    expect(templateWords(`tar -czf "/backups/{{name}} copy.tgz" '{{dir}}' --label={{label}}`)).toEqual(['tar', '-czf', '/backups/{{name}} copy.tgz', '{{dir}}', '--label={{label}}']);
    expect(renderCommand('echo {{msg}} --count={{n}}', { msg: 'a b; rm -rf / $(x)', n: 3 })).toEqual(['echo', 'a b; rm -rf / $(x)', '--count=3']);
    expect(renderCommand('ping {{hosts}}', { hosts: ['a', 'b'] })).toEqual(['ping', 'a,b']);
    expect(() => templateWords('echo "unclosed')).toThrow('unclosed " quote in command template');
  });

  it('must name only the manifest’s parameters, never a secret, and never be the command itself', () => {
    const base = { id: 'x', name: 'X', runner: 'agent' };
    const problems = (m: object) => {
      const r = ManifestSchema.safeParse({ ...base, ...m });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ command_template: 'df -h {{path}}', parameters: [{ name: 'path', type: 'string' }] })).toEqual([]);
    expect(problems({ command_template: 'df -h {{nope}}' })).toEqual(['command_template: {{nope}} is not a parameter of this manifest']);
    expect(problems({ command_template: 'login {{pw}}', parameters: [{ name: 'pw', type: 'secret' }] })).toEqual([
      'command_template: secret pw cannot appear in a command line (ps shows it); the command reads it from DRYDOCK_PARAM_PW',
    ]);
    expect(problems({ command_template: '{{cmd}} now', parameters: [{ name: 'cmd', type: 'string' }] })).toEqual(['command_template: the command itself cannot be a parameter']);
    expect(problems({ command_template: 'true', script: 'scripts/x.sh', interpreter: 'sh' })).toEqual(['script: give one of script (with interpreter), command_template or operation, not several']);
    expect(problems({ script: 'scripts/x.sh' })).toEqual(['interpreter: interpreter is required with script: one of bash, sh, python, powershell, node']);
    expect(problems({ command_template: 'true', runner: 'docker' })).toEqual(['runner_image: runner docker needs runner_image']);
  });
});

describe('host, host list and date parameters', () => {
  const params: Parameter[] = [
    { name: 'target', type: 'host', required: true },
    { name: 'peers', type: 'host_list', required: false, min: 1, max: 2 },
    { name: 'day', type: 'date', required: false, min: '2026-01-01', max: '2026-12-31' },
  ];

  it('accept host ids, lists of them and real dates within bounds', () => {
    expect(validateParams(params, { target: 'web-1', peers: ['db-1', 'db-2'], day: '2026-02-28' })).toEqual({
      ok: true,
      values: { target: 'web-1', peers: ['db-1', 'db-2'], day: '2026-02-28' },
    });
  });

  it('refuse what is not one, with a message per field', () => {
    const result = validateParams(params, { target: 'Web 1', peers: ['a', 'a'], day: '2026-02-30' });
    expect(result).toEqual({
      ok: false,
      fields: { target: ['target must be a host id'], peers: ['peers lists a host twice'], day: ['day is not a real date'] },
    });
    expect(validateParams(params, { target: 'a', peers: ['a', 'b', 'c'], day: '2025-12-31' })).toEqual({
      ok: false,
      fields: { peers: ['peers allows at most 2 hosts'], day: ['day must be on or after 2026-01-01'] },
    });
  });

  it('come from forms as multi-values or comma lists', () => {
    expect(coerceFormValues(params, { target: 'a', peers: ['b', 'c'] })).toEqual({ target: 'a', peers: ['b', 'c'] });
    expect(coerceFormValues(params, { target: 'a', peers: 'b, c,', day: '2026-03-01' })).toEqual({ target: 'a', peers: ['b', 'c'], day: '2026-03-01' });
  });
});

describe('hostile values', () => {
  const ps = parameters(
    { name: 'pattern_checked', title: 'Checked', type: 'string', pattern: '^(a+)+$' },
    { name: 'notes', title: 'Notes', type: 'multiline' },
    { name: 'token', title: 'Token', type: 'secret' },
  );

  it('a catastrophic pattern checks a long value at once and says it does not match', () => {
    expect(fieldsOf(ps, { pattern_checked: `${'a'.repeat(50_000)}!` })).toEqual({ pattern_checked: ['Checked must match ^(a+)+$'] });
    expect(validateParams(ps, { pattern_checked: 'a'.repeat(50_000) })).toEqual({ ok: true, values: { pattern_checked: 'a'.repeat(50_000) } });
  });

  it('a value with a NUL is refused without being repeated', () => {
    const fields = fieldsOf(ps, { notes: 'line\0hidden-part', token: 'tok\0secret-part' });
    expect(fields).toEqual({
      notes: ['Notes cannot contain a NUL character (\\0): no argument or variable can carry one'],
      token: ['Token cannot contain a NUL character (\\0): no argument or variable can carry one'],
    });
    expect(JSON.stringify(fields)).not.toContain('hidden-part');
    expect(JSON.stringify(fields)).not.toContain('secret-part');
  });

  it('a value longer than one argument can be is refused, naming the parameter and the limit', () => {
    expect(fieldsOf(ps, { notes: 'x'.repeat(200 * 1024) })).toEqual({
      notes: ['Notes is 200 KiB; a value can be at most 127 KiB, as one argument on Linux is limited to 128 KiB: pass a file or a reference instead'],
    });
    // Bytes count, not characters: 50,000 three-byte characters are 147 KiB.
    expect(fieldsOf(ps, { token: '€'.repeat(50_000) }).token?.[0]).toMatch(/^Token is 147 KiB; a value can be at most 127 KiB/);
    expect(validateParams(ps, { notes: 'x'.repeat(MAX_PARAM_VALUE_BYTES) }).ok).toBe(true);
  });

  it('values that fit one by one but not together are refused on the largest', () => {
    const many = parameters(...Array.from({ length: 6 }, (_, i) => ({ name: `part_${i}`, type: 'multiline' })));
    const values = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`part_${i}`, 'y'.repeat(i === 3 ? 120_000 : 90_000)]));
    expect(fieldsOf(many, values)).toEqual({
      part_3: [`part_3 is the largest of parameters that together take ${Math.ceil((2 * (5 * 90_000 + 120_000) + 6 * 40) / 1024)} KiB as the script's arguments and variables; they can take at most 1024 KiB (Linux refuses more at start)`],
    });
    expect(MAX_PARAMS_TOTAL_BYTES).toBe(1024 * 1024);
  });

  it('values full of control characters, which JSON escapes sixfold, are refused before they reach Temporal', () => {
    const many = parameters(...Array.from({ length: 4 }, (_, i) => ({ name: `part_${i}`, type: 'secret' })));
    const values = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`part_${i}`, '\u0001'.repeat(100_000)]));
    expect(fieldsOf(many, values)).toEqual({
      part_0: [`part_0 is the largest of parameters that together take ${Math.ceil((4 * (6 * 100_000 + 2)) / 1024)} KiB in the run's workflow input; they can take at most 1536 KiB there (write control characters some other way)`],
    });
  });

  it('a stored manifest whose pattern the linear engine refuses still parses, and its runs say why', () => {
    const stored = StoredManifestSchema.parse({ ...base, parameters: [{ name: 'word', type: 'string', pattern: '(a)\\1' }] });
    expect(fieldsOf(stored.parameters, { word: 'aa' })).toEqual({
      word: ['word cannot be checked: pattern uses a backreference, which cannot be checked in linear time; match the repeated part explicitly or check it in the script'],
    });
  });
});

describe('operations in manifests', () => {
  const base = { id: 'check', name: 'Check' };
  const problems = (m: object) => {
    const r = ManifestSchema.safeParse({ ...base, ...m });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('take parameters by placeholder, and a database password only from a secret parameter', () => {
    expect(problems({ operation: { type: 'file_validation', path: '{{path}}', checks: ['exists'] }, parameters: [{ name: 'path', type: 'string' }] })).toEqual([]);
    expect(problems({ operation: { type: 'file_validation', path: '{{nope}}', checks: ['exists'] } })).toEqual(['operation: {{nope}} is not a parameter of this manifest']);
    const query = { type: 'database_query', engine: 'postgresql', connection: { host: 'db', database: 'app', user: 'ro', password_param: 'pw' }, query: 'select count(*) from jobs' };
    expect(problems({ operation: query, parameters: [{ name: 'pw', type: 'secret' }] })).toEqual([]);
    expect(problems({ operation: query, parameters: [{ name: 'pw', type: 'string' }] })).toEqual([
      'operation.connection.password_param: password_param must name a secret parameter of this manifest (pw is not one)',
    ]);
    expect(problems({ operation: { type: 'shell_command', command: ['echo', '{{pw}}'] }, parameters: [{ name: 'pw', type: 'secret' }] })).toEqual([
      'operation: secret pw cannot be spliced into an operation; name it in password_param instead',
    ]);
  });
});
