import type { Manifest, Parameter } from '@drydock/core';
import { paramEnvName } from '@drydock/core/job-data';
import { CicdError } from '../cicd-error.ts';
import { TRIGGER_ID_PARAMETER } from '../parameters.ts';
import type { GroovyValue, JenkinsPipeline, Step } from './jenkinsfile.ts';

export interface ScriptPipelineInput {
  manifest: Manifest;
  /** The script's content, as the catalog holds it at `commit`. */
  script: string;
  /** Where it comes from, for the header: the repository's name and the commit. */
  source?: { repository: string; commit: string };
  /** The agent label the job runs on; any agent without. */
  agentLabel?: string;
  /** Builds kept by Jenkins. Default 50. */
  keepBuilds?: number;
  /**
   * Drydock's webhook: every finished build posts a notification in the Notification plugin's shape, with the
   * secret from a Jenkins "secret text" credential in X-Drydock-Token (needs the HTTP Request and Credentials
   * Binding plugins).
   */
  webhook?: { url: string; credentialsId: string };
}

const INTERPRETERS: Record<NonNullable<Manifest['interpreter']>, string> = {
  bash: 'bash',
  sh: 'sh',
  python: 'python3',
  node: 'node',
  powershell: 'pwsh',
};

const SCRIPT_FILE = '.drydock/script';
const WRAPPER_FILE = '.drydock/run.sh';

function defaultText(p: Parameter): string {
  if (!('default' in p) || p.default === undefined) return '';
  return Array.isArray(p.default) ? p.default.join(',') : String(p.default);
}

function describe(p: Parameter): string {
  const parts = [p.title, p.description].filter((x): x is string => Boolean(x));
  if (p.type === 'integer' || p.type === 'number') parts.push(`a ${p.type === 'integer' ? 'whole ' : ''}number${p.min !== undefined ? `, at least ${p.min}` : ''}${p.max !== undefined ? `, at most ${p.max}` : ''}`);
  if (p.type === 'host_list') parts.push('host ids, separated by commas');
  if (p.type === 'date') parts.push('YYYY-MM-DD');
  if (p.required) parts.push('required');
  return parts.join('; ');
}

/** The manifest's typed parameter as a declarative `parameters { … }` entry: Jenkins has no number, date or host types. */
function parameterStep(p: Parameter): Step {
  const description = describe(p);
  switch (p.type) {
    case 'boolean':
      return { name: 'booleanParam', named: [['name', p.name], ['defaultValue', p.default ?? false], ['description', description]] };
    case 'enum': {
      // Jenkins offers a choice's first option by default.
      const choices = p.default === undefined ? p.options : [p.default, ...p.options.filter((o) => o !== p.default)];
      return { name: 'choice', named: [['name', p.name], ['choices', choices], ['description', description]] };
    }
    case 'multiline':
      return { name: 'text', named: [['name', p.name], ['defaultValue', defaultText(p)], ['description', description]] };
    case 'secret':
      return { name: 'password', named: [['name', p.name], ['defaultValue', ''], ['description', description]] };
    default:
      return { name: 'string', named: [['name', p.name], ['defaultValue', defaultText(p)], ['description', description], ['trim', true]] };
  }
}

/**
 * The fixed wrapper the job runs: Jenkins hands each parameter to the build as a variable of its name; the wrapper
 * passes them on as Drydock does (`DRYDOCK_PARAM_<NAME>` and `--name=value`, secrets by variable only), quoted as
 * data, and judges the exit code by the manifest's success criteria.
 */
function wrapper(manifest: Manifest): string {
  const exports = manifest.parameters.map((p) => `export ${paramEnvName(p.name)}="\${${p.name}-}"`);
  const args = manifest.parameters.filter((p) => p.type !== 'secret').map((p) => ` "--${p.name}=\${${p.name}-}"`);
  const codes = manifest.success_criteria.exit_codes;
  return [
    '#!/bin/sh',
    `# Drydock runs ${manifest.id}: parameters arrive as data, never as shell text.`,
    ...exports,
    'set +e',
    `${INTERPRETERS[manifest.interpreter!]} ${SCRIPT_FILE}${args.join('')}`,
    'code=$?',
    `case "$code" in ${codes.join('|')}) exit 0 ;; esac`,
    `echo "Drydock: exit code $code is not one of ${codes.join(', ')}" >&2`,
    'if [ "$code" -eq 0 ]; then exit 1; fi',
    'exit "$code"',
    '',
  ].join('\n');
}

function notification(webhook: NonNullable<ScriptPipelineInput['webhook']>): Step {
  const body: GroovyValue = {
    call: {
      name: 'groovy.json.JsonOutput.toJson',
      args: [
        {
          map: [
            ['name', { ref: 'env.JOB_BASE_NAME' }],
            ['url', { ref: 'env.JOB_URL' }],
            [
              'build',
              {
                map: [
                  ['full_url', { ref: 'env.BUILD_URL' }],
                  ['number', { ref: 'currentBuild.number' }],
                  ['phase', 'COMPLETED'],
                  ['status', { ref: 'currentBuild.currentResult' }],
                  ['parameters', { map: [[TRIGGER_ID_PARAMETER, { ref: `params.${TRIGGER_ID_PARAMETER}` }]] }],
                ],
              },
            ],
          ],
        },
      ],
    },
  };
  return {
    name: 'withCredentials',
    args: [[{ call: { name: 'string', named: [['credentialsId', webhook.credentialsId], ['variable', 'DRYDOCK_WEBHOOK_TOKEN']] } }]],
    body: [
      {
        name: 'httpRequest',
        named: [
          ['url', webhook.url],
          ['httpMode', 'POST'],
          ['contentType', 'APPLICATION_JSON'],
          ['requestBody', body],
          ['customHeaders', [{ map: [['name', 'X-Drydock-Token'], ['value', { ref: 'env.DRYDOCK_WEBHOOK_TOKEN' }], ['maskValue', true]] }]],
          ['validResponseCodes', '100:599'],
          ['quiet', true],
        ],
      },
    ],
  };
}

/**
 * A declarative pipeline that runs a catalog script: the manifest's typed parameters (plus DRYDOCK_TRIGGER_ID, so a
 * retried trigger finds its build), the script written into the workspace as text, run by a fixed wrapper within
 * the manifest's timeout, its artifacts archived, and the workspace removed.
 */
export function pipelineFromScript(input: ScriptPipelineInput): JenkinsPipeline {
  const { manifest } = input;
  if (manifest.script === undefined || manifest.interpreter === undefined) {
    throw new CicdError('jenkins', 'rejected', `${manifest.id} has no script (it is a ${manifest.operation ? 'host operation' : 'command template'}): only script manifests become Jenkins pipelines`);
  }
  const comments = [
    `Generated by Drydock from the catalog script ${manifest.id} (${manifest.script}${input.source ? ` in ${input.source.repository} at ${input.source.commit}` : ''}).`,
    'Change the script in the catalog and let Drydock update this job: edits made here are overwritten.',
  ];
  const always: Step[] = [];
  if (manifest.capture.artifacts.length > 0) always.push({ name: 'archiveArtifacts', named: [['artifacts', manifest.capture.artifacts.join(',')], ['allowEmptyArchive', true]] });
  if (input.webhook) always.push(notification(input.webhook));
  const post: JenkinsPipeline['post'] = [];
  if (always.length > 0) post.push({ condition: 'always', steps: always });
  post.push({ condition: 'cleanup', steps: [{ name: 'deleteDir' }] });
  return {
    comments,
    agent: input.agentLabel === undefined ? {} : { label: input.agentLabel },
    options: [
      { name: 'timeout', named: [['time', manifest.timeout], ['unit', 'SECONDS']] },
      { name: 'buildDiscarder', args: [{ call: { name: 'logRotator', named: [['numToKeepStr', String(input.keepBuilds ?? 50)]] } }] },
      { name: 'disableConcurrentBuilds' },
    ],
    parameters: [
      ...manifest.parameters.map(parameterStep),
      { name: 'string', named: [['name', TRIGGER_ID_PARAMETER], ['defaultValue', ''], ['description', 'Set by Drydock to find the build it triggered; leave empty when building by hand'], ['trim', true]] },
    ],
    stages: [
      {
        name: 'Prepare',
        steps: [
          { name: 'writeFile', named: [['file', SCRIPT_FILE], ['text', input.script]] },
          { name: 'writeFile', named: [['file', WRAPPER_FILE], ['text', wrapper(manifest)]] },
        ],
      },
      { name: manifest.name, steps: [{ name: 'sh', named: [['script', `sh ${WRAPPER_FILE}`], ['label', manifest.script]] }] },
    ],
    post,
  };
}
