// The declarative Pipeline subset Drydock generates, as a structured model that renders to a Jenkinsfile and parses
// back from one. The parser reads exactly what the renderer writes (and the same shapes written by hand): sections,
// stages, steps with positional or named arguments, strings ('…' and '''…'''), numbers, booleans, lists, maps,
// dotted references (`env.BUILD_URL`) and calls (`logRotator(numToKeepStr: '50')`). Groovy beyond that is refused.

export type GroovyValue = string | number | boolean | GroovyValue[] | GroovyMap | GroovyRef | GroovyCall;
export interface GroovyMap {
  map: [string, GroovyValue][];
}
/** A name Groovy resolves at run time: `any`, `env.BUILD_URL`, `currentBuild.number`. */
export interface GroovyRef {
  ref: string;
}
export interface GroovyCall {
  call: Step;
}

/** `name 'arg'`, `name(a, b)`, `name(key: value)`, each with an optional `{ body }`. */
export interface Step {
  name: string;
  args?: GroovyValue[];
  named?: [string, GroovyValue][];
  body?: Step[];
}

export const POST_CONDITIONS = ['always', 'changed', 'fixed', 'regression', 'aborted', 'failure', 'success', 'unstable', 'unsuccessful', 'cleanup'] as const;
export type PostCondition = (typeof POST_CONDITIONS)[number];

export interface JenkinsPipeline {
  /** `//` lines above `pipeline {`. */
  comments: string[];
  /** `agent any` without a label. */
  agent: { label?: string };
  options: Step[];
  parameters: Step[];
  stages: { name: string; steps: Step[] }[];
  post: { condition: PostCondition; steps: Step[] }[];
}

export class JenkinsfileError extends Error {
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `Jenkinsfile line ${line}: ${message}`);
    this.name = 'JenkinsfileError';
  }
}

// ---- rendering

const IDENT = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

function quote(text: string): string {
  // Multi-line text keeps its lines, so a script's diff reads as the script's diff.
  const multiline = text.includes('\n');
  // Control characters other than the newline are written as escapes: a Jenkinsfile stays plain text.
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\\'\r\t\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c, offset: number) => {
    if (c === '\\') return '\\\\';
    // Inside '''…''' a quote needs escaping only where it could end the string: before another quote, or last.
    if (c === "'") return multiline && offset < text.length - 1 && text[offset + 1] !== "'" ? "'" : "\\'";
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return multiline ? `'''${escaped}'''` : `'${escaped}'`;
}

function isMap(v: GroovyValue): v is GroovyMap {
  return typeof v === 'object' && !Array.isArray(v) && 'map' in v;
}
function isRef(v: GroovyValue): v is GroovyRef {
  return typeof v === 'object' && !Array.isArray(v) && 'ref' in v;
}

function mapKey(key: string): string {
  return /^[A-Za-z_][\w]*$/.test(key) ? key : quote(key);
}

export function renderValue(v: GroovyValue): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new JenkinsfileError(`${v} is not a number Groovy can hold`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(renderValue).join(', ')}]`;
  if (isMap(v)) return v.map.length === 0 ? '[:]' : `[${v.map.map(([k, x]) => `${mapKey(k)}: ${renderValue(x)}`).join(', ')}]`;
  if (isRef(v)) {
    if (!IDENT.test(v.ref)) throw new JenkinsfileError(`"${v.ref}" is not a Groovy name`);
    return v.ref;
  }
  return renderCall(v.call);
}

function renderArgs(step: Step): string {
  if (step.named && step.named.length > 0) return `(${step.named.map(([k, v]) => `${mapKey(k)}: ${renderValue(v)}`).join(', ')})`;
  return `(${(step.args ?? []).map(renderValue).join(', ')})`;
}

function renderCall(step: Step): string {
  if (!IDENT.test(step.name)) throw new JenkinsfileError(`"${step.name}" is not a Groovy name`);
  return `${step.name}${renderArgs(step)}`;
}

function renderStep(step: Step, indent: string): string {
  if (!IDENT.test(step.name)) throw new JenkinsfileError(`"${step.name}" is not a Groovy name`);
  const args = step.args ?? [];
  let head: string;
  if (step.named && step.named.length > 0) head = renderCall(step);
  else if (args.length === 0) head = step.body ? step.name : `${step.name}()`;
  else if (args.length === 1 && !step.body && (typeof args[0] === 'string' || isRef(args[0]!))) head = `${step.name} ${renderValue(args[0]!)}`;
  else head = renderCall(step);
  if (!step.body) return `${indent}${head}\n`;
  return `${indent}${head} {\n${step.body.map((s) => renderStep(s, `${indent}  `)).join('')}${indent}}\n`;
}

/** The model as a tree of steps: `pipeline { agent …; options { … }; … }`. */
function pipelineStep(p: JenkinsPipeline): Step {
  const body: Step[] = [p.agent.label === undefined ? { name: 'agent', args: [{ ref: 'any' }] } : { name: 'agent', body: [{ name: 'label', args: [p.agent.label] }] }];
  if (p.options.length > 0) body.push({ name: 'options', body: p.options });
  if (p.parameters.length > 0) body.push({ name: 'parameters', body: p.parameters });
  body.push({ name: 'stages', body: p.stages.map((s) => ({ name: 'stage', args: [s.name], body: [{ name: 'steps', body: s.steps }] })) });
  if (p.post.length > 0) body.push({ name: 'post', body: p.post.map((c) => ({ name: c.condition, body: c.steps })) });
  return { name: 'pipeline', body };
}

export function renderJenkinsfile(p: JenkinsPipeline): string {
  if (p.stages.length === 0) throw new JenkinsfileError('a pipeline needs at least one stage');
  const comments = p.comments.map((c) => {
    if (/[\r\n]/.test(c)) throw new JenkinsfileError('a comment is one line');
    return `// ${c}\n`;
  });
  return `${comments.join('')}${renderStep(pipelineStep(p), '')}`;
}

// ---- parsing

type Token =
  | { kind: 'ident'; text: string; line: number }
  | { kind: 'string'; text: string; line: number }
  | { kind: 'number'; value: number; line: number }
  | { kind: 'punct'; text: string; line: number }
  | { kind: 'comment'; text: string; line: number };

function unescape(body: string, line: number): string {
  return body.replace(/\\(u[0-9a-fA-F]{4}|.)/gs, (_m, e: string) => {
    if (e.startsWith('u') && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', $: '$', b: '\b', f: '\f' };
    if (e in simple) return simple[e]!;
    throw new JenkinsfileError(`unknown escape \\${e}`, line);
  });
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c) || c === ';') {
      i++;
    } else if (source.startsWith('//', i)) {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      tokens.push({ kind: 'comment', text: source.slice(i + 2, stop).replace(/^ /, ''), line });
      i = stop;
    } else if (source.startsWith('/*', i)) {
      throw new JenkinsfileError('block comments are not part of the generated subset', line);
    } else if (source.startsWith("'''", i)) {
      let j = i + 3;
      while (j < source.length && !source.startsWith("'''", j)) j += source[j] === '\\' ? 2 : 1;
      if (j >= source.length) throw new JenkinsfileError("a ''' string is not closed", line);
      const raw = source.slice(i + 3, j);
      tokens.push({ kind: 'string', text: unescape(raw, line), line });
      line += raw.split('\n').length - 1;
      i = j + 3;
    } else if (c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== "'" && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      if (source[j] !== "'") throw new JenkinsfileError('a string is not closed on its line', line);
      tokens.push({ kind: 'string', text: unescape(source.slice(i + 1, j), line), line });
      i = j + 1;
    } else if (c === '"') {
      throw new JenkinsfileError('"…" strings interpolate Groovy; the generated subset uses \'…\' only', line);
    } else if (/[-\d]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(source.slice(i));
      if (!m) throw new JenkinsfileError(`unexpected "${c}"`, line);
      tokens.push({ kind: 'number', value: Number(m[0]), line });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*/.exec(source.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0], line });
      i += m[0].length;
    } else if ('{}()[],:'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line });
      i++;
    } else {
      throw new JenkinsfileError(`"${c}" is not part of the generated subset`, line);
    }
  }
  return tokens;
}

class Parser {
  private i = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  private lineNow(): number | undefined {
    return (this.peek() ?? this.tokens.at(-1))?.line;
  }

  private isPunct(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'punct' && t.text === text;
  }

  private expect(text: string): void {
    if (!this.isPunct(text)) throw new JenkinsfileError(`expected "${text}"${this.peek() ? '' : ' before the end'}`, this.lineNow());
    this.i++;
  }

  value(): GroovyValue {
    const t = this.peek();
    if (!t) throw new JenkinsfileError('a value is missing at the end', this.lineNow());
    if (t.kind === 'string') {
      this.i++;
      return t.text;
    }
    if (t.kind === 'number') {
      this.i++;
      return t.value;
    }
    if (t.kind === 'ident') {
      this.i++;
      if (t.text === 'true' || t.text === 'false') return t.text === 'true';
      if (this.isPunct('(')) return { call: { name: t.text, ...this.args() } };
      return { ref: t.text };
    }
    if (this.isPunct('[')) return this.listOrMap();
    throw new JenkinsfileError(`unexpected ${t.kind === 'punct' ? `"${t.text}"` : t.kind}`, t.line);
  }

  private listOrMap(): GroovyValue {
    this.expect('[');
    if (this.isPunct(':') && this.isPunct(']', 1)) {
      this.i += 2;
      return { map: [] };
    }
    if (this.isPunct(']')) {
      this.i++;
      return [];
    }
    const first = this.peek();
    if ((first?.kind === 'ident' || first?.kind === 'string') && this.isPunct(':', 1)) {
      const map: [string, GroovyValue][] = [];
      do {
        const key = this.peek();
        if (key?.kind !== 'ident' && key?.kind !== 'string') throw new JenkinsfileError('a map key is a name or a string', this.lineNow());
        this.i++;
        this.expect(':');
        map.push([key.text, this.value()]);
      } while (this.comma());
      this.expect(']');
      return { map };
    }
    const list: GroovyValue[] = [];
    do list.push(this.value());
    while (this.comma());
    this.expect(']');
    return list;
  }

  private comma(): boolean {
    if (!this.isPunct(',')) return false;
    this.i++;
    return true;
  }

  private args(): Pick<Step, 'args' | 'named'> {
    this.expect('(');
    if (this.isPunct(')')) {
      this.i++;
      return {};
    }
    const first = this.peek();
    if (first?.kind === 'ident' && this.isPunct(':', 1)) {
      const named: [string, GroovyValue][] = [];
      do {
        const key = this.peek();
        if (key?.kind !== 'ident' || !this.isPunct(':', 1)) throw new JenkinsfileError('named and positional arguments are not mixed in the generated subset', this.lineNow());
        this.i += 2;
        named.push([key.text, this.value()]);
      } while (this.comma());
      this.expect(')');
      return { named };
    }
    const args: GroovyValue[] = [];
    do args.push(this.value());
    while (this.comma());
    this.expect(')');
    return { args };
  }

  comments(): string[] {
    const out: string[] = [];
    while (this.peek()?.kind === 'comment') out.push((this.tokens[this.i++] as { text: string }).text);
    return out;
  }

  step(): Step {
    this.comments();
    const name = this.peek();
    if (name?.kind !== 'ident') throw new JenkinsfileError(`expected a step name, found ${name ? (name.kind === 'punct' ? `"${name.text}"` : name.kind) : 'the end'}`, this.lineNow());
    this.i++;
    const step: Step = { name: name.text };
    const next = this.peek();
    if (this.isPunct('(')) Object.assign(step, this.args());
    else if (next && next.line === name.line && (next.kind === 'string' || next.kind === 'number' || next.kind === 'ident' || this.isPunct('['))) step.args = [this.value()];
    if (this.isPunct('{')) {
      this.i++;
      const body: Step[] = [];
      for (;;) {
        this.comments();
        if (this.isPunct('}')) break;
        if (this.done) throw new JenkinsfileError(`the block of ${step.name} is not closed`, name.line);
        body.push(this.step());
      }
      this.expect('}');
      step.body = body;
    }
    return step;
  }
}

function section(steps: Step[], name: string): Step | undefined {
  const found = steps.filter((s) => s.name === name);
  if (found.length > 1) throw new JenkinsfileError(`pipeline has ${found.length} ${name} sections`);
  return found[0];
}

function onlyString(step: Step, what: string): string {
  const arg = step.args?.[0];
  if (step.named || step.args?.length !== 1 || typeof arg !== 'string') throw new JenkinsfileError(`${what} takes one string`);
  return arg;
}

/** Parses a Jenkinsfile of the generated subset back into its model, or says where it leaves the subset. */
export function parseJenkinsfile(source: string): JenkinsPipeline {
  const parser = new Parser(tokenize(source));
  const comments = parser.comments();
  if (parser.done) throw new JenkinsfileError('the Jenkinsfile is empty');
  const root = parser.step();
  parser.comments();
  if (!parser.done) throw new JenkinsfileError('text follows the pipeline block');
  if (root.name !== 'pipeline' || !root.body || root.args || root.named) throw new JenkinsfileError('a declarative Jenkinsfile is one pipeline { … } block');
  const known = new Set(['agent', 'options', 'parameters', 'stages', 'post']);
  for (const s of root.body) if (!known.has(s.name)) throw new JenkinsfileError(`"${s.name}" is not a pipeline section of the generated subset (${[...known].join(', ')})`);

  const agentStep = section(root.body, 'agent');
  if (!agentStep) throw new JenkinsfileError('pipeline has no agent');
  let agent: JenkinsPipeline['agent'];
  if (agentStep.body) {
    const label = agentStep.body.find((s) => s.name === 'label');
    if (!label || agentStep.body.length !== 1) throw new JenkinsfileError('agent { … } holds one label');
    agent = { label: onlyString(label, 'label') };
  } else {
    const arg = agentStep.args?.[0];
    if (!arg || typeof arg !== 'object' || !('ref' in arg) || arg.ref !== 'any') throw new JenkinsfileError('agent is any, or { label … }');
    agent = {};
  }

  const stagesStep = section(root.body, 'stages');
  if (!stagesStep?.body || stagesStep.body.length === 0) throw new JenkinsfileError('pipeline has no stages');
  const stages = stagesStep.body.map((s) => {
    if (s.name !== 'stage') throw new JenkinsfileError(`stages holds stage(…) blocks, not ${s.name}`);
    const name = onlyString(s, 'stage');
    const steps = s.body?.length === 1 && s.body[0]!.name === 'steps' ? s.body[0]!.body : undefined;
    if (!steps) throw new JenkinsfileError(`stage '${name}' holds one steps { … } block`);
    return { name, steps };
  });

  const post = (section(root.body, 'post')?.body ?? []).map((c) => {
    if (!(POST_CONDITIONS as readonly string[]).includes(c.name) || !c.body || c.args || c.named) throw new JenkinsfileError(`"${c.name}" is not a post condition (${POST_CONDITIONS.join(', ')})`);
    return { condition: c.name as PostCondition, steps: c.body };
  });
  return { comments, agent, options: section(root.body, 'options')?.body ?? [], parameters: section(root.body, 'parameters')?.body ?? [], stages, post };
}
