import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ManifestSchema, type Manifest } from '@drydock/core/manifest';
import { CicdError } from '../cicd-error.ts';
import { diffJobConfig, parseJobConfig, pipelineOfJobConfig, renderJobConfig } from './job-config.ts';
import { JenkinsfileError, parseJenkinsfile, renderJenkinsfile, type JenkinsPipeline, type Step } from './jenkinsfile.ts';
import { pipelineFromScript } from './script-pipeline.ts';

const here = dirname(fileURLToPath(import.meta.url));
const examples = join(here, '../../../../examples/scripts-repo');
const manifest = ManifestSchema.parse(parse(readFileSync(join(examples, 'manifests/every-parameter-type.yaml'), 'utf8')));
const script = readFileSync(join(examples, 'scripts/echo-all.sh'), 'utf8');
const webhook = { url: 'https://drydock.example.com/api/v1/cicd/webhooks/jenkins/prov_1', credentialsId: 'drydock-webhook-token' };
const source = { repository: 'examples', commit: '4f2c1e0b9a8d7c6b5a4f3e2d1c0b9a8d7c6b5a4f' };

const scratch = mkdtempSync(join(tmpdir(), 'drydock-jenkinsfile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeFileStep(pipeline: JenkinsPipeline, file: string): string {
  const step = pipeline.stages[0]!.steps.find((s) => s.named?.some(([k, v]) => k === 'file' && v === file));
  const text = step?.named?.find(([k]) => k === 'text')?.[1];
  if (typeof text !== 'string') throw new Error(`no writeFile of ${file}`);
  return text;
}

/** Runs the generated stage as a Jenkins agent would: the files written, each parameter a variable of its name. */
function runOnAgent(pipeline: JenkinsPipeline, params: Record<string, string>) {
  const workspace = mkdtempSync(join(scratch, 'ws-'));
  mkdirSync(join(workspace, '.drydock'));
  writeFileSync(join(workspace, '.drydock/script'), writeFileStep(pipeline, '.drydock/script'));
  writeFileSync(join(workspace, '.drydock/run.sh'), writeFileStep(pipeline, '.drydock/run.sh'));
  const command = pipeline.stages[1]!.steps[0]!.named!.find(([k]) => k === 'script')![1] as string;
  return spawnSync('sh', ['-c', command], { cwd: workspace, env: { PATH: process.env['PATH'], ...params }, encoding: 'utf8' });
}

describe('a catalog script as a declarative Jenkinsfile', () => {
  const pipeline = pipelineFromScript({ manifest, script, source, webhook });
  const jenkinsfile = renderJenkinsfile(pipeline);

  it('renders the golden Jenkinsfile', async () => {
    await expect(jenkinsfile).toMatchFileSnapshot('testdata/every-parameter-type.Jenkinsfile');
  });

  it('parses back to the model it was rendered from', () => {
    expect(parseJenkinsfile(jenkinsfile)).toEqual(pipeline);
    expect(renderJenkinsfile(parseJenkinsfile(jenkinsfile))).toBe(jenkinsfile);
  });

  it('declares every typed parameter of the manifest, in its order, and the trigger id last', () => {
    const params = parseJenkinsfile(jenkinsfile).parameters.map((p: Step) => [p.name, p.named!.find(([k]) => k === 'name')![1]]);
    expect(params).toEqual([
      ['string', 'name'],
      ['text', 'notes'],
      ['string', 'replicas'],
      ['string', 'ratio'],
      ['booleanParam', 'dry_run'],
      ['choice', 'tier'],
      ['password', 'password'],
      ['string', 'target'],
      ['string', 'peers'],
      ['string', 'window'],
      ['string', 'DRYDOCK_TRIGGER_ID'],
    ]);
    const tier = parseJenkinsfile(jenkinsfile).parameters[5]!;
    // Jenkins offers a choice's first option: the manifest's default comes first.
    expect(tier.named!.find(([k]) => k === 'choices')![1]).toEqual(['silver', 'bronze', 'gold']);
  });

  it('keeps the script byte for byte, whatever it holds', () => {
    const hostile = "#!/bin/sh\necho '''triple''' \"double\" \\ backslash \\n not-a-newline $HOME ${x} `id`\r\nlast line without newline \u0007";
    const p = pipelineFromScript({ manifest, script: hostile });
    const back = parseJenkinsfile(renderJenkinsfile(p));
    expect(writeFileStep(back, '.drydock/script')).toBe(hostile);
    const xml = renderJobConfig(p, { description: 'a <b> & "c"' });
    expect(writeFileStep(pipelineOfJobConfig(xml), '.drydock/script')).toBe(hostile);
  });

  it('runs the script with parameters as data: variables and arguments, secrets by variable only', () => {
    const hostile = '$(touch pwned); `touch pwned2` "; exit 7 #';
    const result = runOnAgent(pipeline, { name: hostile, notes: 'line one\nline two', replicas: '3', ratio: '0.5', dry_run: 'true', tier: 'gold', password: 's3cr3t', target: 'web-1', peers: 'a,b', window: '2026-03-01' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`name=${hostile}\n`);
    expect(result.stdout).toContain('notes=line one\nline two\n');
    expect(result.stdout).toContain('tier=gold\n');
    expect(result.stdout).toContain('password: 6 characters\n');
    expect(result.stdout).toContain('all parameters received');

    const argv = pipelineFromScript({ manifest: { ...manifest, interpreter: 'sh' }, script: 'for a in "$@"; do printf "[%s]\\n" "$a"; done' });
    const printed = runOnAgent(argv, { name: hostile, password: 'never-in-argv' });
    expect(printed.stdout).toContain(`[--name=${hostile}]\n`);
    expect(printed.stdout).not.toContain('never-in-argv');
    expect(printed.stdout).toContain('[--tier=]\n');
    expect(printed.stdout).not.toContain('--password');
  });

  it('judges the exit code by the success criteria', () => {
    const allowed: Manifest = { ...manifest, interpreter: 'sh', success_criteria: { ...manifest.success_criteria, exit_codes: [0, 3] } };
    expect(runOnAgent(pipelineFromScript({ manifest: allowed, script: 'exit 3' }), {}).status).toBe(0);
    const refused = runOnAgent(pipelineFromScript({ manifest: allowed, script: 'exit 4' }), {});
    expect(refused.status).toBe(4);
    expect(refused.stderr).toContain('exit code 4 is not one of 0, 3');
    const onlyOne: Manifest = { ...manifest, interpreter: 'sh', success_criteria: { ...manifest.success_criteria, exit_codes: [1] } };
    expect(runOnAgent(pipelineFromScript({ manifest: onlyOne, script: 'exit 0' }), {}).status).toBe(1);
  });

  it('refuses a manifest that is not a script', () => {
    const template = ManifestSchema.parse({ id: 'df', name: 'df', command_template: 'df -h' });
    expect(() => pipelineFromScript({ manifest: template, script: '' })).toThrow(CicdError);
    expect(() => pipelineFromScript({ manifest: template, script: '' })).toThrow(/only script manifests become Jenkins pipelines/);
  });
});

describe('parsing a Jenkinsfile back', () => {
  it('says where a Jenkinsfile leaves the subset', () => {
    expect(() => parseJenkinsfile("pipeline {\n  agent any\n  stages {\n    stage('a') {\n      steps {\n        echo \"${x}\"\n")).toThrow(/line 6: "…" strings interpolate Groovy/);
    expect(() => parseJenkinsfile("pipeline {\n  agent any\n  stages {\n    stage('a') {\n      steps {\n        echo 'x'\n")).toThrow(JenkinsfileError);
    expect(() => parseJenkinsfile("pipeline {\n  agent any\n  triggers { cron('H * * * *') }\n  stages { stage('a') { steps { echo 'x' } } }\n}")).toThrow(/"triggers" is not a pipeline section/);
    expect(() => parseJenkinsfile("pipeline {\n  agent any\n}\n")).toThrow(/no stages/);
    expect(() => parseJenkinsfile("node { sh 'make' }")).toThrow(/one pipeline \{ … \} block/);
    expect(() => parseJenkinsfile("pipeline { agent any\n stages { stage('a') { steps { echo 'x' } } } }\n}")).toThrow(/expected a step name|text follows/);
  });

  it('reads hand-written shapes of the same subset', () => {
    const p = parseJenkinsfile(`// hand-written
pipeline {
  agent { label 'linux' }
  stages {
    stage('Build') { steps { sh 'make'; echo 'done' } }
  }
  post { failure { mail(to: 'ops@example.com', subject: 'failed', body: 'see it') } }
}
`);
    expect(p.agent).toEqual({ label: 'linux' });
    expect(p.stages[0]!.steps).toEqual([
      { name: 'sh', args: ['make'] },
      { name: 'echo', args: ['done'] },
    ]);
    expect(p.post[0]!.condition).toBe('failure');
  });
});

describe('the job config.xml', () => {
  const pipeline = pipelineFromScript({ manifest, script, source, webhook });
  const xml = renderJobConfig(pipeline, { description: `Drydock: ${manifest.name}` });

  it('renders the golden config.xml', async () => {
    await expect(xml).toMatchFileSnapshot('testdata/every-parameter-type.config.xml');
  });

  it('is well-formed, a Pipeline job with the Jenkinsfile inline and sandboxed', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    const config = parseJobConfig(xml);
    expect(config.script).toBe(renderJenkinsfile(pipeline));
    expect(config.sandbox).toBe(true);
    expect(config.disabled).toBe(false);
    expect(parseJenkinsfile(config.script!)).toEqual(pipeline);
  });

  it('declares the parameters Jenkins needs before the first build, typed', () => {
    const config = parseJobConfig(xml);
    expect(config.parameters.map((p) => [p.name, p.type])).toEqual([
      ['name', 'string'],
      ['notes', 'text'],
      ['replicas', 'string'],
      ['ratio', 'string'],
      ['dry_run', 'boolean'],
      ['tier', 'choice'],
      ['password', 'password'],
      ['target', 'string'],
      ['peers', 'string'],
      ['window', 'string'],
      ['DRYDOCK_TRIGGER_ID', 'string'],
    ]);
    expect(config.parameters.find((p) => p.name === 'replicas')!.default).toBe('2');
    expect(config.parameters.find((p) => p.name === 'dry_run')!.default).toBe(true);
    expect(config.parameters.find((p) => p.name === 'tier')!.choices).toEqual(['silver', 'bronze', 'gold']);
  });

  it('refuses XML that is not well-formed, saying where', () => {
    expect(() => parseJobConfig('<flow-definition><description></flow-definition>')).toThrow(/not well-formed XML.*line 1/);
    expect(() => parseJobConfig('<matrix-project/>')).toThrow(/neither a Pipeline job/);
  });

  it('diffs a new job as all added, and a change as the lines that changed', () => {
    const created = diffJobConfig('team/echo', undefined, xml);
    expect(created).toContain('--- /dev/null');
    expect(created.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++')).length).toBe(xml.split('\n').length - 1);

    const changed = renderJobConfig(pipelineFromScript({ manifest: { ...manifest, timeout: 60 }, script, source, webhook }), { description: `Drydock: ${manifest.name}` });
    const diff = diffJobConfig('team/echo', xml, changed);
    const removed = diff.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'));
    const added = diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(removed).toEqual(["-    timeout(time: 30, unit: 'SECONDS')"]);
    expect(added).toEqual(["+    timeout(time: 60, unit: 'SECONDS')"]);
    expect(diffJobConfig('team/echo', xml, xml)).not.toMatch(/^[-+][^-+]/m);
  });
});
