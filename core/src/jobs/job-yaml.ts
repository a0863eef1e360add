import { Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type ParsedNode, type Pair } from 'yaml';
import { type Job, JobSchema, type Step } from './job-schema.ts';
import type { JobPath, JobProblem } from './validate-job.ts';
import { zodProblems } from './validate-job.ts';

// `kind: job` documents, for the git catalog (next to manifests) and the builder's YAML view. Browser-safe, but
// not workflow-safe: the `yaml` package reads process.env (exported as @drydock/core/jobs/yaml, not from
// @drydock/core/jobs).

export interface JobYamlProblem extends JobProblem {
  line?: number;
}

export interface ParsedJobYaml {
  job: Job;
  /** The parsed document, with its comments: `updateJobYaml` writes the builder's edits into it. */
  document: Document.Parsed;
  lineCounter: LineCounter;
}

/** The line (1-based) of the node at `path`, or of the nearest node above it that exists. */
export function lineOf(parsed: Pick<ParsedJobYaml, 'document' | 'lineCounter'>, path: JobPath): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const keys = path.slice(0, depth);
    const node = (keys.length === 0 ? parsed.document.contents : parsed.document.getIn(keys, true)) as ParsedNode | undefined;
    const offset = node && typeof node === 'object' && 'range' in node ? node.range?.[0] : undefined;
    if (offset !== undefined) return parsed.lineCounter.linePos(offset).line;
  }
  return undefined;
}

/** Adds the line of each problem of `validateJob` on a job read from this YAML. */
export function withLines(parsed: Pick<ParsedJobYaml, 'document' | 'lineCounter'>, problems: readonly JobProblem[]): JobYamlProblem[] {
  return problems.map((p) => ({ ...p, line: lineOf(parsed, p.path) }));
}

/** Reads a `kind: job` document. Every problem of YAML or of the schema comes with its line. */
export function parseJobYaml(text: string): ({ ok: true } & ParsedJobYaml) | { ok: false; problems: JobYamlProblem[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    return { ok: false, problems: document.errors.map((e) => ({ path: [], line: lineCounter.linePos(e.pos[0]).line, message: `invalid YAML: ${e.message.split('\n')[0]}` })) };
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, problems: [{ path: [], message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` }] };
  }
  if (typeof raw !== 'object' || raw === null || (raw as { kind?: unknown }).kind !== 'job') {
    return { ok: false, problems: [{ path: ['kind'], line: 1, message: 'a job document says kind: job' }] };
  }
  const parsed = JobSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: withLines({ document, lineCounter }, zodProblems(parsed.error, raw)) };
  return { ok: true, job: parsed.data, document, lineCounter };
}

const JOB_KEYS = ['kind', 'id', 'name', 'description', 'version', 'tags', 'parameters', 'outputs', 'steps', 'rollback', 'on_cancel'];
const PARAMETER_KEYS = ['name', 'type', 'title', 'description', 'required', 'default', 'options', 'pattern', 'min_length', 'max_length', 'min', 'max'];
const STEP_HEAD = ['id', 'name'];
const STEP_TAIL = ['version', 'params', 'targets', 'needs', 'timeout', 'retries', 'retry_delay', 'on_failure'];

function ordered(value: Record<string, unknown>, keys: readonly string[], drop: (key: string, v: unknown) => boolean = () => false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rest = Object.keys(value).filter((k) => !keys.includes(k));
  for (const key of [...keys, ...rest]) {
    const v = value[key];
    if (v !== undefined && !drop(key, v)) out[key] = v;
  }
  return out;
}

/** A step as the canonical text writes it: `kind` left out (the kind key says it), fields in a fixed order. */
function canonicalStep(step: Step, keepKind: boolean): Record<string, unknown> {
  const keys = [...STEP_HEAD, ...(keepKind ? ['kind'] : []), step.kind, ...STEP_TAIL];
  return ordered(step as unknown as Record<string, unknown>, keys, (key) => key === 'kind' && !keepKind);
}

/** The job as plain data in canonical order, defaults left out: what serializeJob writes. */
export function canonicalJob(job: Job, keepKind: (stepId: string) => boolean = () => false): Record<string, unknown> {
  const steps = (list: readonly Step[]) => list.map((s) => canonicalStep(s, keepKind(s.id)));
  return ordered(
    {
      ...job,
      kind: 'job',
      parameters: job.parameters?.map((p) => ordered(p as unknown as Record<string, unknown>, PARAMETER_KEYS, (key, v) => key === 'required' && v === false)),
      steps: steps(job.steps),
      rollback: job.rollback && Object.fromEntries(Object.entries(job.rollback).map(([branch, list]) => [branch, steps(list)])),
    },
    JOB_KEYS,
  );
}

const TO_STRING = { lineWidth: 0, indentSeq: true } as const;

/** The canonical text of a job: fixed key order, defaults left out; parseJobYaml reads it back to the same job. */
export function serializeJob(job: Job): string {
  return new Document(canonicalJob(job)).toString(TO_STRING);
}

function keyOf(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Writes `value` into `node`, keeping the nodes (and so the comments) of what did not change. */
function merge(doc: Document, node: unknown, value: unknown): Node {
  if (isPlainObject(value) && isMap(node)) {
    const wanted = Object.keys(value);
    node.items = node.items.filter((pair) => wanted.includes(String(keyOf(pair))));
    wanted.forEach((key, position) => {
      const pair = node.items.find((p) => keyOf(p) === key);
      if (pair) {
        pair.value = merge(doc, pair.value, value[key]);
        return;
      }
      // A new key goes where the canonical order puts it: before the first kept key that comes after it.
      const later = node.items.findIndex((p) => wanted.indexOf(String(keyOf(p))) > position);
      const created = doc.createPair(key, value[key]);
      if (later === -1) node.items.push(created);
      else node.items.splice(later, 0, created);
    });
    return node;
  }
  if (Array.isArray(value) && isSeq(node)) {
    // YAML keeps a comment above the first item on the list itself: it belongs to that item, wherever it moves.
    const first = node.items[0];
    if (node.commentBefore && isMap(first) && first.get('id') !== undefined) {
      first.commentBefore = first.commentBefore ? `${node.commentBefore}\n${first.commentBefore}` : node.commentBefore;
      node.commentBefore = null;
    }
    const byId = new Map<unknown, unknown>();
    for (const item of node.items) if (isMap(item)) byId.set(item.get('id'), item);
    node.items = value.map((v, i) => {
      // Steps keep their comments when they move: they are matched by id; other lists by position.
      const existing = isPlainObject(v) && typeof v.id === 'string' ? byId.get(v.id) : node.items[i];
      return existing === undefined ? doc.createNode(v) : merge(doc, existing, v);
    });
    return node;
  }
  if (isScalar(node) && !isPlainObject(value) && !Array.isArray(value)) {
    if (node.value !== value) node.value = value;
    return node;
  }
  return doc.createNode(value);
}

/**
 * The builder's edit written into the YAML the user wrote: values that changed are replaced in place, steps are
 * matched by id, and comments on whatever is kept (a step, a field, the document) stay where they were. A step's
 * `kind` stays if the user wrote it. The result parses to `job`.
 */
export function updateJobYaml(text: string, job: Job): string {
  const document = parseDocument(text, { keepSourceTokens: false });
  if (document.errors.length > 0 || !isMap(document.contents)) return serializeJob(job);
  // The steps whose `kind` the user wrote, by id: wherever the edit moved them, they keep it.
  const kinds = new Map<string, unknown>();
  const lists = [document.get('steps', true), ...(isMap(document.get('rollback', true)) ? (document.get('rollback', true) as { items: Pair[] }).items.map((p) => p.value) : [])];
  for (const list of lists) if (isSeq(list)) for (const item of list.items) if (isMap(item)) kinds.set(String(item.get('id')), item.get('kind'));
  const all = [...job.steps, ...Object.values(job.rollback ?? {}).flat()];
  const wroteKind = (id: string) => kinds.get(id) !== undefined && kinds.get(id) === all.find((s) => s.id === id)?.kind;
  document.contents = merge(document, document.contents, canonicalJob(job, wroteKind)) as typeof document.contents;
  return document.toString(TO_STRING);
}

