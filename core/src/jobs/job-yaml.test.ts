import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../config.ts';
import { ManifestSchema } from '../manifest.ts';
import { type Job, JobSchema } from './job-schema.ts';
import { parseJobYaml, serializeJob, updateJobYaml, withLines } from './job-yaml.ts';
import { StepLibrarySchema } from './step-library.ts';
import { validateJob } from './validate-job.ts';

function read(text: string): Job {
  const parsed = parseJobYaml(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.job;
}

/** Text that YAML writers get wrong: words YAML 1.1 reads as booleans or null, numbers, indicators, line breaks. */
const awkward = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('yes', 'no', 'on', 'null', '~', '123', '0x1F', '1e3', '.inf', ' leading', 'trailing ', ': colon', '- dash', '#hash', 'a #b', '"q"', "'s'", 'two\nlines', 'crlf\r\n', '', '@at', '*star', '&anchor', '!tag', '%pct', '|', '>', 'ünï', '{{ params.service }}', 'v{{ steps.s0.outputs.version }}-x', "{{ '{{' }}"),
);
const value = fc.oneof(awkward, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(awkward, { minLength: 1, maxLength: 3 }));
const params = fc.option(fc.dictionary(fc.constantFrom('service', 'version', 'count', 'nodes', 'x_1'), value, { maxKeys: 4 }), { nil: undefined });
const targets = fc.oneof(
  fc.record({ host: fc.constantFrom('web-1', '{{ params.node }}') }),
  fc.record({ hosts: fc.oneof(fc.constant('{{ params.nodes }}'), fc.array(fc.constantFrom('web-1', 'db-1'), { minLength: 1, maxLength: 3 })) }),
  fc.record({ selector: fc.record({ environment: fc.constantFrom('dev', 'uat'), tags: fc.option(fc.array(fc.constantFrom('db', 'web'), { minLength: 1 }), { nil: undefined }) }, { requiredKeys: ['environment'] }) }),
  fc.record({ from_step: fc.constant('s0') }),
);
const kindConfig = fc.oneof(
  fc.record({ script: fc.constantFrom('check-version', 'migrate'), params, targets }, { requiredKeys: ['script', 'targets'] }),
  fc.record({ wait: fc.oneof(fc.record({ duration: fc.constantFrom('30s', '15m', '2h') }), fc.record({ until: fc.constantFrom('2026-03-01T18:00:00+01:00', '{{ params.when }}') })) }),
  fc.record({ notify: fc.record({ channels: fc.constant(['ops']), title: awkward.filter((t) => t.trim() !== ''), summary: fc.option(awkward, { nil: undefined }) }, { requiredKeys: ['channels', 'title'] }) }),
  fc.record({ approval: fc.record({ message: awkward.filter((t) => t !== ''), timeout: fc.option(fc.integer({ min: 60, max: 86_400 }), { nil: undefined }) }, { requiredKeys: ['message'] }) }),
  fc.record({ library: fc.constant('drain-node@3'), params }, { requiredKeys: ['library'] }),
);
const step = (id: string) =>
  fc
    .tuple(
      kindConfig,
      fc.record(
        {
          name: awkward.filter((t) => t !== ''),
          needs: fc.array(fc.constantFrom('s0', 's1', 's2'), { maxLength: 2 }),
          timeout: fc.integer({ min: 1, max: 3_600 }),
          retries: fc.integer({ min: 0, max: 3 }),
          on_failure: fc.oneof(fc.constantFrom('stop', 'continue'), fc.constant({ rollback: 'undo' })),
        },
        { requiredKeys: [] },
      ),
    )
    .map(([config, common]) => ({ id, ...common, ...config }));
const rawJob = fc.record(
  {
    id: fc.constant('generated'),
    name: awkward.filter((t) => t !== ''),
    description: awkward,
    version: fc.integer({ min: 1, max: 50 }),
    parameters: fc.constant([{ name: 'service', type: 'string', required: true }, { name: 'nodes', type: 'host_list', default: ['web-1'] }, { name: 'mode', type: 'enum', options: ['a', 'b'], default: 'a' }]),
    steps: fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => step(`s${i}`)))),
    rollback: fc.record({ undo: fc.tuple(step('u0'), step('u1')).map((list) => list.map((s) => ({ ...s, on_failure: undefined }))) }),
    outputs: fc.constant({ version: '{{ steps.s0.outputs.version }}' }),
  },
  { requiredKeys: ['id', 'name', 'steps'] },
);

describe('YAML round trip', () => {
  it('reads back what it writes: parse → serialise → parse is the same job', () => {
    fc.assert(
      fc.property(rawJob, (raw) => {
        const parsed = JobSchema.safeParse(raw);
        fc.pre(parsed.success);
        const job = parsed.data!;
        const text = serializeJob(job);
        expect(read(text)).toEqual(job);
        // Canonical: writing what was read gives the same text.
        expect(serializeJob(read(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('writes a canonical document: kind first, fixed key order, step kinds and defaults left out', () => {
    const text = `# upgrade runbook
steps:
  - needs: []
    targets: { host: web-1 }
    kind: script
    script: check-version
    id: check
name: Upgrade
parameters:
  - required: false
    type: string
    name: note
id: upgrade
kind: job
`;
    expect(serializeJob(read(text))).toBe(`kind: job
id: upgrade
name: Upgrade
parameters:
  - name: note
    type: string
steps:
  - id: check
    script: check-version
    targets:
      host: web-1
    needs: []
`);
  });
});

describe('the builder\'s edits keep the user\'s comments', () => {
  const original = `# Upgrade the API, one node at a time.
kind: job
id: upgrade
name: Upgrade API # shown in the catalog
parameters:
  - name: service
    type: string
    required: true
steps:
  # Find out what runs now.
  - id: check
    script: check-version
    params:
      service: "{{ params.service }}" # the one the form asks for
    targets: { host: web-1 }
  # The risky part.
  - id: migrate
    kind: script
    script: migrate
    params:
      from_version: "{{ steps.check.outputs.version }}"
    targets: { from_step: check }
  - id: pause
    wait: { duration: 5m }
`;

  it('changes values in place, moves steps with their comments, and adds and removes steps', () => {
    const job = read(original);
    const migrate = job.steps[1]!;
    const edited: Job = {
      ...job,
      name: 'Upgrade the API',
      steps: [
        job.steps[0]!,
        { id: 'approve', kind: 'approval', approval: { message: 'Migrate {{ params.service }}?' } },
        { ...migrate, params: { from_version: 'v{{ steps.check.outputs.version }}' } } as Job['steps'][number],
      ],
    };
    const text = updateJobYaml(original, edited);
    expect(read(text)).toEqual(JobSchema.parse(edited));
    for (const comment of ['# Upgrade the API, one node at a time.', '# shown in the catalog', '# Find out what runs now.', '# the one the form asks for', '# The risky part.']) {
      expect(text).toContain(comment);
    }
    expect(text).toContain('name: Upgrade the API # shown in the catalog');
    expect(text).toContain('kind: script');
    expect(text).not.toContain('pause');
    // The new step sits between the two it was put between, the risky part's comment still on migrate.
    expect(text.indexOf('id: approve')).toBeLessThan(text.indexOf('# The risky part.'));
  });

  it('keeps a step\'s comment when the builder reorders the steps', () => {
    const job = read(original);
    const text = updateJobYaml(original, { ...job, steps: [job.steps[2]!, job.steps[0]!, job.steps[1]!] });
    expect(text.indexOf('id: pause')).toBeLessThan(text.indexOf('# Find out what runs now.'));
    expect(text.indexOf('# Find out what runs now.')).toBeLessThan(text.indexOf('id: check'));
    expect(text.indexOf('# The risky part.')).toBeLessThan(text.indexOf('id: migrate'));
  });
});

describe('problems in YAML', () => {
  it('come with their lines: YAML errors, schema problems and the save-time check', () => {
    const bad = parseJobYaml('kind: job\nid: x\nname: X\nsteps:\n  - id: a\n    wait: { duration: 5 minutes }\n');
    expect(bad).toEqual({
      ok: false,
      problems: [{ path: ['steps', 0, 'wait', 'duration'], step: 'a', line: 6, message: '"5 minutes" is not a duration: write a whole number above 0 and one unit, s, m, h or d (30s, 15m, 24h, 7d)' }],
    });
    expect(parseJobYaml('kind: job\nid: [\n')).toMatchObject({ ok: false, problems: [{ line: 3 }] });
    expect(parseJobYaml('id: x\nname: X\nsteps: []\n')).toEqual({ ok: false, problems: [{ path: ['kind'], line: 1, message: 'a job document says kind: job' }] });

    const text = 'kind: job\nid: x\nname: X\nsteps:\n  - id: a\n    wait: { duration: 5m }\n  - id: b\n    needs: [a, c]\n    wait: { duration: 5m }\n';
    const parsed = parseJobYaml(text);
    if (!parsed.ok) throw new Error('parses');
    const checked = validateJob(parsed.job, { catalog: [], actions: [], libraries: [], hosts: [] });
    expect(checked.ok ? [] : withLines(parsed, checked.problems)).toEqual([{ path: ['steps', 1, 'needs', 1], step: 'b', line: 8, message: 'b needs c, but there is no step c' }]);
  });
});

describe('the examples in docs/jobs.md', () => {
  it('are documents Drydock reads and accepts', async () => {
    const markdown = await readFile(join(REPO_ROOT, 'docs/jobs.md'), 'utf8');
    const blocks = [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
    const jobText = blocks.find((b) => b.startsWith('kind: job'))!;
    const library = StepLibrarySchema.parse(parse(blocks.find((b) => b.startsWith('kind: step_library'))!));
    const outputs = ManifestSchema.parse({ id: 'x', name: 'x', command_template: 'true', ...parse(blocks.find((b) => b.startsWith('outputs:'))!) }).outputs;
    expect(outputs?.map((o) => o.type)).toEqual(['string', 'integer', 'host_list', 'enum']);

    const manifest = (id: string, extra: object = {}) => ({ id, manifest: ManifestSchema.parse({ id, name: id, command_template: 'true', ...extra }) });
    const catalog = [
      manifest('check-version', { parameters: [{ name: 'service', type: 'string' }], outputs: [{ name: 'version', type: 'string' }] }),
      manifest('migrate-db', { parameters: [{ name: 'from_version', type: 'string', required: true }, { name: 'password', type: 'secret', required: true }] }),
      manifest('restore-db'),
      manifest('cordon', { parameters: [{ name: 'node', type: 'host', required: true }] }),
      manifest('evict', { parameters: [{ name: 'node', type: 'host', required: true }, { name: 'grace', type: 'integer' }], outputs: [{ name: 'evicted', type: 'integer' }] }),
    ];
    const parsed = parseJobYaml(jobText);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const checked = validateJob(parsed.job, { catalog, actions: [], libraries: [library], hosts: [{ id: 'web-1' }], channels: ['ops-slack'] });
    expect(checked.ok ? [] : checked.problems).toEqual([]);
  });
});
