import { describe, expect, test } from 'vitest';
import { type Operation, OperationDefinitionError, OperationSchema, parseDuration, parseFileCheck } from './operation-schema.ts';
import { renderOperation } from './render-operation.ts';

function problems(input: unknown): string[] {
  const result = OperationSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const db = { host: 'db-1', database: 'app', user: 'reader' };

describe('durations', () => {
  test('30s, 15m, 24h and 7d are read as milliseconds', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
  });

  test.each(['5 minutes', '1.5h', '0s', '10', 'm', '15M', ' 15m', '-1d', '1w', ''])('%j is refused with what to write instead', (text) => {
    expect(() => parseDuration(text)).toThrow(OperationDefinitionError);
    expect(() => parseDuration(text)).toThrow(/write a whole number above 0 and one unit, s, m, h or d \(30s, 15m, 24h, 7d\)/);
  });
});

describe('file checks', () => {
  test('each kind parses to what it checks', () => {
    expect(parseFileCheck('exists')).toEqual({ kind: 'exists' });
    expect(parseFileCheck('size_gt_mb:10')).toEqual({ kind: 'size_gt_mb', mb: 10 });
    expect(parseFileCheck('size_lt_mb:0.5')).toEqual({ kind: 'size_lt_mb', mb: 0.5 });
    expect(parseFileCheck('modified_within:24h')).toEqual({ kind: 'modified_within', ms: 86_400_000, text: '24h' });
    expect(parseFileCheck('contains:level=ERROR: disk')).toEqual({ kind: 'contains', needle: 'level=ERROR: disk' });
  });

  test('a schema error names the check and says what is wrong', () => {
    expect(problems({ type: 'file_validation', path: '/var/log/app.log', checks: ['exist', 'size_gt_mb:ten', 'modified_within:5 minutes', 'contains:'] })).toEqual([
      'checks.0: unknown file check "exist": use exists, readable, writable, size_gt_mb:N, size_lt_mb:N, modified_within:<30s|15m|24h|7d> or contains:<text>',
      'checks.1: size_gt_mb needs a size in MB, like size_gt_mb:10 or size_gt_mb:0.5; got "ten"',
      'checks.2: "5 minutes" is not a duration: write a whole number above 0 and one unit, s, m, h or d (30s, 15m, 24h, 7d)',
      'checks.3: contains needs the text to look for, like contains:ERROR',
    ]);
    expect(problems({ type: 'file_validation', path: '/x', checks: [] })).toHaveLength(1);
  });
});

describe('OperationSchema', () => {
  test('accepts one operation of each type', () => {
    const ops: unknown[] = [
      { type: 'shell_command', command: ['df', '-h', '/'], timeout_seconds: 30, working_directory: '/tmp', environment: { LC_ALL: 'C' } },
      { type: 'file_validation', path: '/var/log/app.log', checks: ['exists', 'readable', 'size_lt_mb:100', 'modified_within:15m', 'contains:started'] },
      { type: 'service_health', http: { url: 'https://app.example.test/health', expect_status: [200, 204], expect_body_contains: 'ok' } },
      { type: 'service_health', systemd: { unit: 'nginx.service', expect: 'active' } },
      { type: 'service_health', windows_service: { name: 'W32Time', expect: 'Running' } },
      { type: 'database_query', engine: 'postgresql', connection: { ...db, port: 5432, password_param: 'db_password' }, query: 'SELECT count(*) FROM jobs;', expect: { max: 10 } },
    ];
    for (const op of ops) expect(problems(op)).toEqual([]);
  });

  test('a command is an argv list whose program is not a parameter', () => {
    expect(problems({ type: 'shell_command', command: 'df -h /' })).toHaveLength(1);
    expect(problems({ type: 'shell_command', command: [] })).toEqual(['command: command is an argv list: the program, then its arguments']);
    expect(problems({ type: 'shell_command', command: ['{{tool}}', '--version'] })).toEqual(['command: the program itself cannot be a parameter']);
    expect(problems({ type: 'shell_command', command: ['echo'], environment: { 'BAD NAME': 'x' } })).toEqual(['environment.BAD NAME: environment names are letters, digits and _']);
  });

  test('service_health checks exactly one thing', () => {
    expect(problems({ type: 'service_health' })).toEqual([': service_health checks exactly one of http, systemd or windows_service']);
    expect(problems({ type: 'service_health', http: { url: 'http://a.test/' }, systemd: { unit: 'a.service', expect: 'active' } })).toEqual([
      ': service_health checks exactly one of http, systemd or windows_service',
    ]);
  });

  test('an http check has an http(s) URL without credentials, and a body only with GET', () => {
    expect(problems({ type: 'service_health', http: { url: 'ftp://a.test/' } })).toEqual(['http.url: url must be an http:// or https:// URL']);
    expect(problems({ type: 'service_health', http: { url: 'http://admin:hunter2@a.test/' } })).toEqual(['http.url: url cannot carry a user name or password']);
    expect(problems({ type: 'service_health', http: { url: 'http://a.test/', method: 'HEAD', expect_body_contains: 'ok' } })).toEqual([
      'http.expect_body_contains: a HEAD response has no body: use GET with expect_body_contains',
    ]);
    expect(problems({ type: 'service_health', http: { url: 'http://{{host}}:8080/health' } })).toEqual([]);
  });

  test('a query is one statement, with placeholders outside quotes', () => {
    const query = (q: string, engine = 'postgresql') => problems({ type: 'database_query', engine, connection: db, query: q });
    expect(query('SELECT 1; DELETE FROM jobs')).toEqual(['query: query must be exactly one statement; found 2']);
    expect(query("SELECT ';' AS semicolon; -- trailing comment")).toEqual([]);
    expect(query("SELECT count(*) FROM jobs WHERE owner = '{{owner}}'")).toEqual([
      'query: write {{owner}} bare, not inside quotes: a parameter is sent to the database as a bound value, never pasted into the SQL',
    ]);
    expect(query("SELECT 'it''s", 'mysql')).toEqual(["query: the query has a ' quote that is never closed"]);
    expect(problems({ type: 'database_query', engine: 'mysql', connection: db, query: 'SELECT 1', expect: { min: 5, max: 1 } })).toEqual([
      'expect: expect.min is above expect.max',
    ]);
  });

  test('unknown fields are errors, so a typo is not silently ignored', () => {
    expect(problems({ type: 'file_validation', path: '/x', checks: ['exists'], check: ['readable'] })).toHaveLength(1);
  });
});

describe('renderOperation', () => {
  test('a value lands inside its argv word: metacharacters stay data, never split or joined', () => {
    const op = OperationSchema.parse({ type: 'shell_command', command: ['grep', '-c', '{{pattern}}', '/var/log/{{app}}.log'], environment: { MODE: '{{mode}}' } });
    const rendered = renderOperation(op, { pattern: '$(reboot); echo "x" | tee /etc/passwd', app: 'a b', mode: 'fast' });
    expect(rendered).toEqual({
      type: 'shell_command',
      command: ['grep', '-c', '$(reboot); echo "x" | tee /etc/passwd', '/var/log/a b.log'],
      environment: { MODE: 'fast' },
    });
  });

  test('a value in a URL is percent-encoded, so it cannot change the host or add query fields', () => {
    const op = OperationSchema.parse({ type: 'service_health', http: { url: 'http://{{host}}:8080/health?service={{service}}' } });
    const rendered = renderOperation(op, { host: 'web-1', service: 'a&admin=1#x' }) as Extract<Operation, { type: 'service_health' }>;
    expect(rendered.http?.url).toBe('http://web-1:8080/health?service=a%26admin%3D1%23x');
  });

  test('placeholders in a query become bind markers, and the values go in bind', () => {
    const pg = OperationSchema.parse({
      type: 'database_query',
      engine: 'postgresql',
      connection: { host: '{{db_host}}', database: 'app', user: 'reader' },
      query: "SELECT count(*) FROM jobs WHERE owner = {{owner}} AND state <> 'done' AND (owner2 = {{owner}} OR n > {{n}}) -- {{not_bound}}",
    });
    expect(renderOperation(pg, { db_host: 'db-1', owner: "o'brien'; DROP TABLE jobs; --", n: 3 })).toEqual({
      type: 'database_query',
      engine: 'postgresql',
      connection: { host: 'db-1', database: 'app', user: 'reader' },
      query: "SELECT count(*) FROM jobs WHERE owner = $1 AND state <> 'done' AND (owner2 = $1 OR n > $2) -- {{not_bound}}",
      bind: ["o'brien'; DROP TABLE jobs; --", 3],
    });
    const mysql = OperationSchema.parse({ type: 'database_query', engine: 'mysql', connection: db, query: 'SELECT {{a}} + {{b}} + {{a}}' });
    expect(renderOperation(mysql, { a: 1, b: 2 })).toMatchObject({ query: 'SELECT ? + ? + ?', bind: [1, 2, 1] });
  });

  test('check arguments can be parameters, and are validated once filled in', () => {
    const op = OperationSchema.parse({ type: 'file_validation', path: '/var/log/{{app}}.log', checks: ['exists', 'size_lt_mb:{{max_mb}}', 'modified_within:{{window}}'] });
    expect(renderOperation(op, { app: 'api', max_mb: 50, window: '15m' })).toEqual({
      type: 'file_validation',
      path: '/var/log/api.log',
      checks: ['exists', 'size_lt_mb:50', 'modified_within:15m'],
    });
    expect(() => renderOperation(op, { app: 'api', max_mb: 50, window: '15 minutes' })).toThrow(
      'with its parameters filled in, the file_validation operation is not valid: checks.2: "15 minutes" is not a duration: write a whole number above 0 and one unit, s, m, h or d (30s, 15m, 24h, 7d)',
    );
  });

  test('a placeholder without a value is an error, not an empty string', () => {
    const op = OperationSchema.parse({ type: 'file_validation', path: '/srv/{{app}}/current', checks: ['exists'] });
    expect(() => renderOperation(op, {})).toThrow(new OperationDefinitionError('{{app}} has no value: give the parameter app a value or a default'));
  });

  test('lists join with commas, like command templates', () => {
    const op = OperationSchema.parse({ type: 'shell_command', command: ['ping-all', '{{hosts}}'] });
    expect(renderOperation(op, { hosts: ['web-1', 'web-2'] })).toMatchObject({ command: ['ping-all', 'web-1,web-2'] });
  });
});
