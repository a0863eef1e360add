import { describe, expect, it } from 'vitest';
import { ManifestSchema } from '../manifest.ts';
import { type JobInput, JobSchema } from './job-schema.ts';
import { StepLibrarySchema } from './step-library.ts';
import { type JobValidationContext, validateJob, validateStepLibrary } from './validate-job.ts';

const manifest = (input: object) => ManifestSchema.parse({ name: 'x', command_template: 'true', ...input });

const drainNode3 = StepLibrarySchema.parse({
  kind: 'step_library',
  id: 'drain-node',
  version: 3,
  name: 'Drain node',
  parameters: [{ name: 'node', type: 'host', required: true }, { name: 'grace', type: 'integer', default: 30 }],
  targets: 'required',
  steps: [
    { id: 'cordon', script: 'cordon', params: { node: '{{ params.node }}' }, targets: 'inherit' },
    { id: 'evict', script: 'evict', params: { node: '{{ params.node }}', grace: '{{ params.grace }}' }, targets: 'inherit' },
  ],
  outputs: { evicted: '{{ steps.evict.outputs.evicted }}' },
});

const ctx: JobValidationContext = {
  catalog: [
    {
      id: 'check-version',
      manifest: manifest({ id: 'check-version', parameters: [{ name: 'service', type: 'string', required: true }], outputs: [{ name: 'version', type: 'string' }, { name: 'replicas', type: 'integer' }, { name: 'nodes', type: 'host_list' }] }),
      versions: ['a1b2c3d4e5', 'ffee001122'],
    },
    {
      id: 'migrate',
      manifest: manifest({
        id: 'migrate',
        parameters: [
          { name: 'from_version', type: 'string', required: true },
          { name: 'batch', type: 'integer' },
          { name: 'password', type: 'secret' },
          { name: 'mode', type: 'enum', options: ['fast', 'safe'] },
        ],
      }),
    },
    { id: 'restore', manifest: manifest({ id: 'restore', host_tags: ['db'] }) },
    { id: 'cordon', manifest: manifest({ id: 'cordon', parameters: [{ name: 'node', type: 'host', required: true }] }) },
    { id: 'evict', manifest: manifest({ id: 'evict', parameters: [{ name: 'node', type: 'host', required: true }, { name: 'grace', type: 'integer' }], outputs: [{ name: 'evicted', type: 'integer' }] }) },
  ],
  actions: [{ id: 'restart-app', manifest: manifest({ id: 'restart-app', parameters: [{ name: 'app', type: 'enum', options: ['api', 'web'], required: true }] }) }],
  libraries: [drainNode3, StepLibrarySchema.parse({ ...drainNode3, version: 4 })],
  hosts: [
    { id: 'web-1', environment: 'uat', group: 'web', tags: ['web'] },
    { id: 'db-1', environment: 'uat', group: 'db', tags: ['db'] },
  ],
  channels: ['ops-slack'],
};

const job = (overrides: Partial<JobInput> & Pick<JobInput, 'steps'>): JobInput => ({
  id: 'upgrade',
  name: 'Upgrade',
  parameters: [
    { name: 'service', type: 'string', required: true },
    { name: 'note', type: 'string' },
    { name: 'db_password', type: 'secret', required: true },
    { name: 'nodes', type: 'host_list', required: true },
  ],
  ...overrides,
});

/** The problems as "path: message", the way the builder puts them on a field. */
function problems(input: JobInput, context = ctx): string[] {
  const result = validateJob(input, context);
  return result.ok ? [] : result.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
}

const check = { id: 'check', script: 'check-version', params: { service: '{{ params.service }}' }, targets: { host: 'web-1' } };

describe('a job that is right', () => {
  it('passes, with its library steps expanded and outputs passed forward', () => {
    const result = validateJob(
      job({
        steps: [
          check,
          { id: 'drain', library: 'drain-node@3', params: { node: 'web-1' }, targets: { host: 'web-1' } },
          {
            id: 'migrate',
            script: 'migrate',
            params: { from_version: 'v{{ steps.check.outputs.version }}', batch: '{{ steps.drain.outputs.evicted }}', password: '{{ params.db_password }}', mode: 'safe' },
            targets: { from_step: 'check' },
            on_failure: { rollback: 'undo' },
          },
          { id: 'approve', approval: { message: 'Migrated from {{ steps.check.outputs.version }}. Go on?', approvers: { roles: ['maintainer'] } } },
          { id: 'tell', notify: { channels: ['ops-slack'], title: '{{ params.service }} upgraded by {{ steps.approve.outputs.approver }}' } },
        ],
        rollback: { undo: [{ id: 'restore-db', script: 'restore', targets: { host: 'db-1' } }] },
        on_cancel: { rollback: 'undo' },
        outputs: { evicted: '{{ steps.drain.outputs.evicted }}' },
      }),
      ctx,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.expanded.steps.map((s) => [s.id, s.needs])).toEqual([
      ['check', []],
      ['drain/cordon', ['check']],
      ['drain/evict', ['drain/cordon']],
      ['migrate', ['drain/evict']],
      ['approve', ['migrate']],
      ['tell', ['approve']],
    ]);
    const migrate = result.expanded.steps.find((s) => s.id === 'migrate');
    expect(migrate && 'params' in migrate ? migrate.params?.batch : undefined).toBe('{{ steps.drain/evict.outputs.evicted }}');
    expect(result.expanded.outputs).toEqual({ evicted: '{{ steps.drain/evict.outputs.evicted }}' });
  });
});

describe('problems, each on the field it is about', () => {
  it('names a cycle', () => {
    expect(problems(job({ steps: [check, { id: 'a', needs: ['b'], wait: { duration: '1m' } }, { id: 'b', needs: ['a'], wait: { duration: '1m' } }] }))).toEqual([
      'steps.1.needs: the steps form a cycle: a needs b, b needs a',
    ]);
  });

  it('finds a needs to an unknown step', () => {
    expect(problems(job({ steps: [check, { id: 'a', needs: ['check', 'chekc'], wait: { duration: '1m' } }] }))).toEqual(['steps.1.needs.1: a needs chekc, but there is no step chekc']);
  });

  it('finds an unknown output, and an output of a step that does not come before', () => {
    expect(
      problems(
        job({
          steps: [
            check,
            { id: 'm1', script: 'migrate', params: { from_version: '{{ steps.check.outputs.commit }}' }, targets: { host: 'web-1' } },
            { id: 'm2', needs: ['check'], script: 'migrate', params: { from_version: '{{ steps.m3.outputs.version }}' }, targets: { host: 'web-1' } },
            { id: 'm3', needs: ['check'], script: 'check-version', params: { service: 'x' }, targets: { host: 'web-1' } },
            { id: 'm4', script: 'migrate', params: { from_version: '{{ steps.nope.outputs.version }}' }, targets: { host: 'web-1' } },
          ],
        }),
      ),
    ).toEqual([
      'steps.1.params.from_version: {{ steps.check.outputs.commit }}: script check-version has no output commit (its outputs: version, replicas, nodes)',
      'steps.2.params.from_version: {{ steps.m3.outputs.version }}: m3 does not come before m2; add m3 to the needs of m2 (directly or through a step it needs)',
      'steps.4.params.from_version: {{ steps.nope.outputs.version }}: there is no step nope',
    ]);
  });

  it('finds a missing required parameter, an unknown one and a literal that does not fit', () => {
    expect(problems(job({ steps: [check, { id: 'm', script: 'migrate', params: { batch: 'ten', colour: 'red', mode: 'slow' }, targets: { host: 'web-1' } }] }))).toEqual([
      'steps.1.params.colour: script migrate has no parameter colour (its parameters: from_version, batch, password, mode)',
      'steps.1.params: missing required parameter from_version of script migrate',
      'steps.1.params.batch: batch must be a number (parameter batch of script migrate)',
      'steps.1.params.mode: mode must be one of: fast, safe (parameter mode of script migrate)',
    ]);
  });

  it('finds type mismatches that can be known now, and lets through what only the value decides', () => {
    expect(
      problems(
        job({
          steps: [
            check,
            {
              id: 'm',
              script: 'migrate',
              params: {
                from_version: '{{ params.note }}',
                batch: '{{ steps.check.outputs.version }}',
                mode: '{{ params.service }}',
                password: 'x{{ params.service }}',
              },
              targets: { host: 'web-1' },
            },
            { id: 'leak', notify: { channels: ['ops-slack'], title: 'password is {{ params.db_password }}' } },
            { id: 'r', action: 'restart-app', params: { app: '{{ steps.check.outputs.replicas }}' }, targets: { hosts: '{{ steps.check.outputs.nodes }}' } },
          ],
        }),
      ),
    ).toEqual([
      'steps.1.params.from_version: {{ params.note }} may have no value (the job\'s parameter note is optional, without a default), and parameter from_version of script migrate is required: make note required or give it a default',
      'steps.1.params.batch: parameter batch of script migrate: {{ steps.check.outputs.version }} is text, and a whole number is needed: declare the output as integer',
      'steps.2.notify.title: the title: {{ params.db_password }} is a secret, and would be shown where this value goes: pass it to a secret parameter',
      'steps.3.params.app: parameter app of action restart-app: {{ steps.check.outputs.replicas }} is a whole number, and one of api, web is needed',
    ]);
  });

  it('finds a selector that matches no host, unknown hosts and hosts without the tags a script needs', () => {
    expect(
      problems(
        job({
          steps: [
            { id: 'a', script: 'restore', targets: { selector: { environment: 'preprod', tags: ['db'] } } },
            { id: 'b', script: 'restore', targets: { hosts: ['db-1', 'web-1', 'ghost'] } },
          ],
        }),
      ),
    ).toEqual([
      'steps.0.targets.selector: the selector (environment preprod, tags db) matches no host',
      'steps.1.targets.hosts.1: host web-1 lacks the tags script restore needs: db',
      'steps.1.targets.hosts.2: there is no host ghost',
    ]);
  });

  it('finds a step library version that no longer exists, and an unknown library', () => {
    expect(
      problems(
        job({
          steps: [
            { id: 'drain', library: 'drain-node@2', params: { node: 'web-1' }, targets: { host: 'web-1' } },
            { id: 'other', library: 'reboot@1' },
          ],
        }),
      ),
    ).toEqual(['steps.0.library: step library drain-node@2 no longer exists (versions now: 3, 4): pin one of them', 'steps.1.library: there is no step library reboot']);
  });

  it('finds unknown scripts, actions, jobs and channels', () => {
    expect(
      problems(
        job({
          steps: [
            { id: 'a', script: 'chek-version', targets: { host: 'web-1' } },
            { id: 'b', action: 'restart', targets: { host: 'web-1' } },
            { id: 'c', job: 'nightly' },
            { id: 'd', notify: { channels: ['pager'], title: 'x' } },
            { id: 'e', script: 'check-version', version: 'deadbeef', params: { service: 'x' }, targets: { host: 'web-1' } },
          ],
        }),
      ),
    ).toEqual([
      'steps.0.script: there is no script chek-version in the catalog',
      'steps.1.action: there is no action restart',
      'steps.2.job: there is no job nightly',
      'steps.3.notify.channels.0: there is no notification channel pager',
      'steps.4.version: script check-version has no version deadbeef',
    ]);
  });

  it('refuses outputs of a step that runs on several hosts, and a step output read by itself', () => {
    expect(
      problems(
        job({
          steps: [
            { id: 'many', script: 'check-version', params: { service: 'x' }, targets: { hosts: '{{ params.nodes }}' } },
            { id: 'm', script: 'migrate', params: { from_version: '{{ steps.many.outputs.version }}' }, targets: { host: 'web-1' } },
            { id: 'self', script: 'check-version', params: { service: '{{ steps.self.outputs.version }}' }, targets: { host: 'web-1' } },
          ],
        }),
      ),
    ).toEqual([
      'steps.1.params.from_version: {{ steps.many.outputs.version }}: many runs on several hosts, each with its own outputs: target one host (targets: { host: … }) to pass an output forward',
      'steps.2.params.service: {{ steps.self.outputs.version }}: a step cannot use its own outputs',
    ]);
  });

  it('checks rollback branches, locks, from_step and the steps a job runs', () => {
    const nightly = JobSchema.parse({ id: 'nightly', name: 'Nightly', steps: [{ id: 'run', job: 'upgrade' }] });
    expect(
      problems(
        job({
          steps: [
            { id: 'lock', take_lock: { reason: 'upgrade {{ params.service }}' }, targets: { hosts: '{{ params.nodes }}' } },
            { id: 'early', release_lock: 'later-lock', needs: [] },
            { id: 'later-lock', take_lock: { reason: 'x' }, targets: { from_step: 'unreached' } },
            { id: 'unreached', needs: [], script: 'restore', targets: { host: 'db-1' }, on_failure: { rollback: 'missing' } },
            { id: 'loop', job: 'nightly' },
          ],
          rollback: { undo: [{ id: 'u', script: 'restore', targets: { host: 'db-1' }, on_failure: { rollback: 'undo' } }] },
          on_cancel: { rollback: 'gone' },
        }),
        { ...ctx, jobs: [nightly] },
      ),
    ).toEqual([
      'steps.1.release_lock: later-lock does not come before early: add it to the needs of early',
      'steps.2.targets.from_step: unreached does not come before later-lock, so its hosts are not known yet: add it to the needs of later-lock',
      'steps.3.on_failure.rollback: there is no rollback branch missing (branches: undo)',
      'steps.4.job: upgrade runs nightly runs upgrade: a job cannot run itself',
      'rollback.undo.0.on_failure: a rollback step cannot start another rollback: use stop or continue',
      'on_cancel.rollback: there is no rollback branch gone (branches: undo)',
    ]);
  });

  it('types the outputs of a job a step runs by that job\'s own steps', () => {
    const child = JobSchema.parse({ id: 'find-version', name: 'Find version', version: 3, parameters: [{ name: 'service', type: 'string', required: true }], steps: [check], outputs: { version: '{{ steps.check.outputs.version }}', nodes: '{{ steps.check.outputs.nodes }}' } });
    const withChild = { ...ctx, jobs: [child] };
    expect(
      problems(
        job({
          steps: [
            { id: 'find', job: 'find-version', params: { service: 'api' } },
            { id: 'use', script: 'migrate', params: { from_version: '{{ steps.find.outputs.version }}', batch: '{{ steps.find.outputs.nodes }}' }, targets: { host: 'web-1' } },
            { id: 'old', job: 'find-version', version: 2 },
          ],
        }),
        withChild,
      ),
    ).toEqual([
      'steps.1.params.batch: parameter batch of script migrate: {{ steps.find.outputs.nodes }} is a host list, and a whole number is needed',
      'steps.2.version: job find-version has no version 2 (versions: 3)',
    ]);
  });

  it('checks a host operation\'s placeholders against its params, and its password against secrets', () => {
    expect(
      problems(
        job({
          steps: [
            {
              id: 'q',
              operation: {
                type: 'database_query',
                engine: 'postgresql',
                connection: { host: '{{db_host}}', database: 'app', user: 'app', password_param: 'pw' },
                query: 'select count(*) from t where name = {{name}}',
              },
              params: { db_host: 'db-1.internal', pw: '{{ params.service }}', extra: 'x' },
              targets: { host: 'db-1' },
            },
          ],
        }),
      ),
    ).toEqual([
      'steps.0.params: {{name}} in the operation has no value: give it in params',
      'steps.0.params.pw: the database password comes from a secret: {{ params.service }} is text',
      'steps.0.params.extra: params.extra is not used by the operation (its placeholders: db_host, name)',
    ]);
  });

  it('reports schema problems with the step id the user gave', () => {
    const result = validateJob({ id: 'upgrade', name: 'U', steps: [{ id: 'a', script: 'x', wait: { duration: '1m' } }, { id: 'b', wait: { duration: '5 min' } }, { id: 'Bad Id', wait: { duration: '1m' } }] }, ctx);
    expect(result.ok ? [] : result.problems).toEqual([
      { path: ['steps', 0], step: 'a', message: 'a step does one thing: it has script and wait; split it into steps' },
      { path: ['steps', 1, 'wait', 'duration'], step: 'b', message: '"5 min" is not a duration: write a whole number above 0 and one unit, s, m, h or d (30s, 15m, 24h, 7d)' },
      { path: ['steps', 2, 'id'], step: 'Bad Id', message: 'step ids are lower-case letters, digits, "-" and "_", starting with a letter' },
    ]);
  });

  it('finds duplicate step ids and a template that does not parse', () => {
    expect(problems(job({ steps: [check, { ...check, id: 'again', params: { service: '{{ params.service' } }] }))).toEqual([
      'steps.1.params.service: at character 1: the expression is closed with "}}", but the text ends; one expression holds one reference',
    ]);
    expect(problems(job({ steps: [check, { ...check, needs: ['check'] }] }))).toEqual(['steps.1.id: step id check is used twice (first at steps.0)']);
  });

  it('puts problems inside a library on the library step, against today\'s catalog', () => {
    const withoutEvict = { ...ctx, catalog: ctx.catalog.filter((s) => s.id !== 'evict') };
    expect(problems(job({ steps: [{ id: 'drain', library: 'drain-node@3', params: { node: 'web-1', grace: 'long' } }] }), withoutEvict)).toEqual([
      'steps.0.params.grace: grace must be a number (parameter grace of step library drain-node@3)',
      'steps.0: say where drain runs: targets: { host: … }, { hosts: […] }, { selector: … } or { from_step: … }',
      'steps.0: in drain-node@3, step evict: there is no script evict in the catalog',
    ]);
  });
});

describe('step libraries', () => {
  it('are checked on their own when saved', () => {
    const result = validateStepLibrary(
      {
        kind: 'step_library',
        id: 'restart',
        version: 1,
        name: 'Restart',
        steps: [{ id: 'go', script: 'restart-it', targets: 'inherit' }, { id: 'nested', library: 'drain-node@3' }],
        outputs: { v: '{{ steps.go.outputs.version }}' },
      },
      ctx,
    );
    expect(result.ok ? [] : result.problems.map((p) => `${p.path.join('.')}: ${p.message}`)).toEqual([
      'steps.0.targets: targets: inherit needs the library to say targets: required',
      'steps.1.library: a step library cannot use another library: copy its steps in',
    ]);
  });
});
