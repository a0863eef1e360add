import { createTwoFilesPatch } from 'diff';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CicdError } from '../cicd-error.ts';
import type { CicdParameterDefinition } from '../provider.ts';
import { parseJenkinsfile, renderJenkinsfile, type GroovyValue, type JenkinsPipeline, type Step } from './jenkinsfile.ts';

// A Pipeline job's config.xml: a flow-definition whose CpsFlowDefinition holds the Jenkinsfile, with the parameters
// declared as Jenkins stores them, so they exist before the first build (buildWithParameters needs them).

export interface JobConfig {
  description: string;
  disabled: boolean;
  parameters: CicdParameterDefinition[];
  /** The Jenkinsfile, for a Pipeline job whose script is inline. */
  script?: string;
  sandbox?: boolean;
}

const DEFINITIONS: Record<string, { tag: string; type: CicdParameterDefinition['type'] }> = {
  string: { tag: 'hudson.model.StringParameterDefinition', type: 'string' },
  text: { tag: 'hudson.model.TextParameterDefinition', type: 'text' },
  booleanParam: { tag: 'hudson.model.BooleanParameterDefinition', type: 'boolean' },
  choice: { tag: 'hudson.model.ChoiceParameterDefinition', type: 'choice' },
  password: { tag: 'hudson.model.PasswordParameterDefinition', type: 'password' },
};

// Order matters (Jenkins lists parameters in document order), so the document is read as ordered nodes.
const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: false, removeNSPrefix: false });

type XmlNode = Record<string, unknown>;

function tagOf(node: XmlNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@');
}

function childrenOf(node: XmlNode | undefined): XmlNode[] {
  const tag = node && tagOf(node);
  const value = tag === undefined ? undefined : node![tag];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

function child(node: XmlNode | undefined, tag: string): XmlNode | undefined {
  return childrenOf(node).find((c) => tagOf(c) === tag);
}

function textIn(node: XmlNode | undefined): string {
  return childrenOf(node)
    .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : ''))
    .join('');
}

function named(step: Step, key: string): GroovyValue | undefined {
  return step.named?.find(([k]) => k === key)?.[1];
}

function textOf(v: GroovyValue | undefined): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** Text content needs only these escaped; quotes stay as they are, so a diff of the script reads as the script. */
function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function element(tag: string, value: string | boolean, indent: string): string {
  const inner = esc(String(value));
  return inner === '' ? `${indent}<${tag}/>` : `${indent}<${tag}>${inner}</${tag}>`;
}

function definitionXml(step: Step, indent: string): string {
  const def = DEFINITIONS[step.name];
  if (!def) throw new CicdError('jenkins', 'rejected', `"${step.name}" is not a parameter type Drydock writes (${Object.keys(DEFINITIONS).join(', ')})`);
  const lines = [element('name', textOf(named(step, 'name')), `${indent}  `), element('description', textOf(named(step, 'description')), `${indent}  `)];
  if (step.name === 'choice') {
    const choices = named(step, 'choices');
    lines.push(`${indent}  <choices class="java.util.Arrays$ArrayList">`, `${indent}    <a class="string-array">`);
    for (const choice of Array.isArray(choices) ? choices : []) lines.push(element('string', textOf(choice), `${indent}      `));
    lines.push(`${indent}    </a>`, `${indent}  </choices>`);
  } else {
    lines.push(element('defaultValue', textOf(named(step, 'defaultValue')), `${indent}  `));
  }
  if (step.name === 'string' || step.name === 'text') lines.push(element('trim', named(step, 'trim') === true, `${indent}  `));
  return [`${indent}<${def.tag}>`, ...lines, `${indent}</${def.tag}>`].join('\n');
}

/** The config.xml of a Pipeline job that runs `pipeline`, rendered as its Jenkinsfile; parameters in the Jenkinsfile's order. */
export function renderJobConfig(pipeline: JenkinsPipeline, options: { description: string }): string {
  const script = renderJenkinsfile(pipeline);
  const properties =
    pipeline.parameters.length === 0
      ? ['  <properties/>']
      : [
          '  <properties>',
          '    <hudson.model.ParametersDefinitionProperty>',
          '      <parameterDefinitions>',
          ...pipeline.parameters.map((p) => definitionXml(p, '        ')),
          '      </parameterDefinitions>',
          '    </hudson.model.ParametersDefinitionProperty>',
          '  </properties>',
        ];
  const xml = [
    "<?xml version='1.1' encoding='UTF-8'?>",
    '<flow-definition plugin="workflow-job">',
    element('description', options.description, '  '),
    '  <keepDependencies>false</keepDependencies>',
    ...properties,
    '  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps">',
    `    <script>${esc(script)}</script>`,
    '    <sandbox>true</sandbox>',
    '  </definition>',
    '  <triggers/>',
    '  <disabled>false</disabled>',
    '</flow-definition>',
    '',
  ].join('\n');
  // What Drydock writes must read back as the same pipeline, or it is not written.
  const back = pipelineOfJobConfig(xml);
  if (renderJenkinsfile(back) !== script) throw new CicdError('jenkins', 'rejected', 'the generated config.xml does not read back as the pipeline it was made from');
  return xml;
}

/** Reads a job's config.xml: well-formed, a flow-definition or project, its parameters in order and inline script. */
export function parseJobConfig(xml: string): JobConfig {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new CicdError('jenkins', 'rejected', `config.xml is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const root = (parser.parse(xml) as XmlNode[]).find((n) => tagOf(n) === 'flow-definition' || tagOf(n) === 'project');
  if (!root) throw new CicdError('jenkins', 'rejected', 'config.xml is neither a Pipeline job (flow-definition) nor a freestyle project');
  const parameters: CicdParameterDefinition[] = [];
  const definitions = child(child(child(root, 'properties'), 'hudson.model.ParametersDefinitionProperty'), 'parameterDefinitions');
  for (const raw of childrenOf(definitions)) {
    const kind = Object.values(DEFINITIONS).find((d) => d.tag === tagOf(raw));
    if (!kind) continue;
    const def: CicdParameterDefinition = { name: textIn(child(raw, 'name')).trim(), type: kind.type };
    const description = textIn(child(raw, 'description'));
    if (description) def.description = description;
    if (kind.type === 'choice') {
      def.choices = childrenOf(child(child(raw, 'choices'), 'a'))
        .filter((c) => tagOf(c) === 'string')
        .map(textIn);
      if (def.choices[0] !== undefined) def.default = def.choices[0];
    } else if (kind.type === 'boolean') {
      def.default = textIn(child(raw, 'defaultValue')).trim() === 'true';
    } else if (kind.type !== 'password') {
      def.default = textIn(child(raw, 'defaultValue'));
    }
    parameters.push(def);
  }
  const config: JobConfig = { description: textIn(child(root, 'description')), disabled: textIn(child(root, 'disabled')).trim() === 'true', parameters };
  const definition = child(root, 'definition');
  if ((definition?.[':@'] as Record<string, string> | undefined)?.['class'] === 'org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition') {
    config.script = textIn(child(definition, 'script'));
    config.sandbox = textIn(child(definition, 'sandbox')).trim() === 'true';
  }
  return config;
}

/** The job's inline Jenkinsfile parsed back to its model: proof that what Drydock writes is what it meant. */
export function pipelineOfJobConfig(xml: string): JenkinsPipeline {
  const config = parseJobConfig(xml);
  if (config.script === undefined) throw new CicdError('jenkins', 'rejected', 'config.xml has no inline Pipeline script');
  return parseJenkinsfile(config.script);
}

/** A unified diff of the job's config.xml as it is (nothing, for a new job) and as Drydock would write it. */
export function diffJobConfig(path: string, current: string | undefined, next: string): string {
  return createTwoFilesPatch(current === undefined ? '/dev/null' : `a/${path}/config.xml`, `b/${path}/config.xml`, current ?? '', next, undefined, undefined, { context: 3 });
}
