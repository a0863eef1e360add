import { TAGS } from '../openapi.ts';

// docs/api.md, written from the OpenAPI document: the guide of each section, then each route's parameters,
// body and answers, then every schema's fields. Nothing in it is typed by hand twice.

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
};
type Parameter = { name: string; in: string; required?: boolean; description?: string; schema?: Schema };
type MediaTypes = Record<string, { schema?: Schema }>;
type Operation = {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: MediaTypes };
  responses?: Record<string, { description?: string; content?: MediaTypes }>;
};
export type ApiDocument = {
  info: { description?: string };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Partial<Record<string, Operation>>>;
  components?: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, { description?: string }> };
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const refName = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);
const anchor = (name: string) => name.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
const schemaLink = (name: string) => `[\`${name}\`](#${anchor(name)})`;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
const code = (value: unknown) => `\`${JSON.stringify(value)}\``;

/** A schema in a few words: `string`, `integer` 1 to 200, `RunView[]`, `queued` \| `running`, … */
function typeOf(s: Schema | undefined): string {
  if (!s) return 'any';
  if (s.$ref) return schemaLink(refName(s.$ref));
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return variants.map(typeOf).join(' or ');
  if (s.allOf) return s.allOf.filter((p) => p.$ref).map(typeOf).join(' and ') || 'object';
  if (s.const !== undefined) return code(s.const);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const nullable = types.includes('null');
  const base = types.filter((t) => t !== 'null');
  let text: string;
  if (s.enum) text = s.enum.filter((v) => v !== null).map(code).join(', ');
  else if (base[0] === 'array') text = `${typeOf(s.items).replace(/ or /g, ' or ')}[]`;
  else if (base[0] === 'string' && s.format) text = `string (${s.format})`;
  else if (base[0] === 'object' && !s.properties && typeof s.additionalProperties === 'object') text = `object of ${typeOf(s.additionalProperties)}`;
  else if (base[0] === 'object' && s.properties) text = `{ ${Object.keys(s.properties).map((k) => `\`${k}\``).join(', ')} }`;
  else if (base.length === 0 && nullable) return 'null';
  else text = base.join(' or ') || 'any';
  return nullable ? `${text} or null` : text;
}

/** The rules a value must keep, in words: ranges, lengths, patterns and defaults. */
function rulesOf(s: Schema | undefined): string {
  if (!s) return '';
  const rules: string[] = [];
  const range = (min: number | undefined, max: number | undefined, unit: string) => {
    if (min !== undefined && max !== undefined) rules.push(`${min} to ${max}${unit}`);
    else if (min !== undefined) rules.push(`at least ${min}${unit}`);
    else if (max !== undefined) rules.push(`at most ${max}${unit}`);
  };
  range(s.minimum, s.maximum, '');
  if (s.exclusiveMinimum !== undefined) rules.push(`more than ${s.exclusiveMinimum}`);
  range(s.minLength, s.maxLength, ' characters');
  range(s.minItems, s.maxItems, ' items');
  if (s.pattern) rules.push(`\`${s.pattern}\``);
  if (s.default !== undefined) rules.push(`default ${code(s.default)}`);
  return rules.join('; ');
}

function describe(s: Schema | undefined): string {
  return [s?.description, rulesOf(s)].filter(Boolean).join('. ');
}

function fieldsTable(s: Schema): string[] {
  const required = new Set(s.required ?? []);
  const rows = Object.entries(s.properties ?? {}).map(
    ([name, field]) => `| \`${name}\` | ${cell(typeOf(field))} | ${required.has(name) ? 'yes' : ''} | ${cell(describe(field))} |`,
  );
  return rows.length === 0 ? [] : ['| field | type | required | |', '|---|---|---|---|', ...rows];
}

function callerOf(op: Operation, schemes: Record<string, { description?: string }>): string {
  if (op.security === undefined) return 'user';
  if (op.security.length === 0) return 'anyone';
  const names = op.security.flatMap((r) => Object.keys(r));
  if (names.includes('agentToken')) return 'agent token';
  if (names.every((n) => schemes[n] && n !== 'agentToken')) return "the git provider's signature";
  return names.join(' or ');
}

function successOf(op: Operation): string {
  return Object.keys(op.responses ?? {})
    .filter((s) => s.startsWith('2'))
    .join(' / ');
}

function mediaLine(content: MediaTypes | undefined): string {
  const [type, media] = Object.entries(content ?? {})[0] ?? [];
  if (!type) return '';
  const schema = media?.schema;
  if (type === 'application/json') return typeOf(schema);
  return `\`${type}\``;
}

function operationSection(method: string, path: string, op: Operation, schemes: Record<string, { description?: string }>): string[] {
  const out = [`### \`${method.toUpperCase()} ${path}\``, '', `${op.summary ?? ''}.`, ''];
  if (op.description) out.push(op.description, '');
  out.push(`Who may call: ${callerOf(op, schemes)}.`, '');
  const params = op.parameters ?? [];
  if (params.length > 0) {
    out.push('| parameter | in | type | required | |', '|---|---|---|---|---|');
    for (const p of params) out.push(`| \`${p.name}\` | ${p.in} | ${cell(typeOf(p.schema))} | ${p.required ? 'yes' : ''} | ${cell(describe({ ...p.schema, description: p.description ?? p.schema?.description }))} |`);
    out.push('');
  }
  const body = op.requestBody;
  if (body?.content) {
    const [type, media] = Object.entries(body.content)[0]!;
    const schema = media.schema;
    if (type === 'application/json' && schema && !schema.$ref && schema.properties) {
      out.push(`Body (\`${type}\`):`, '', ...fieldsTable(schema), '');
    } else {
      out.push(`Body (\`${type}\`): ${type === 'application/json' ? typeOf(schema) : (schema?.description ?? 'the raw bytes')}.`, '');
    }
  }
  out.push('| answer | body | when |', '|---|---|---|');
  for (const [status, response] of Object.entries(op.responses ?? {})) {
    out.push(`| ${status} | ${cell(mediaLine(response.content))} | ${cell(response.description ?? '')} |`);
  }
  out.push('');
  return out;
}

/** docs/api.md for `document`; the same document gives the same text, byte for byte. */
export function apiMarkdown(document: ApiDocument): string {
  const schemes = document.components?.securitySchemes ?? {};
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => (item[method] ? [{ method, path, op: item[method] }] : [])),
  );
  const out = [
    '<!-- Generated by `npm run docs:api` from the OpenAPI document: edit the route declarations (api/src/routes/), the schemas (core/src/api/) or the guides (api/src/reference/*.md), not this file. -->',
    '',
    '# API',
    '',
    document.info.description ?? '',
    '',
    '## Routes',
    '',
    '| method and path | who may call | success | what it does |',
    '|---|---|---|---|',
    ...operations.map(({ method, path, op }) => `| \`${method.toUpperCase()} ${path}\` | ${callerOf(op, schemes)} | ${successOf(op)} | ${cell(op.summary ?? '')} |`),
    '',
  ];
  const guides = new Map((document.tags ?? []).map((t) => [t.name, t.description ?? '']));
  for (const tag of TAGS) {
    out.push(`## ${tag.title}`, '', guides.get(tag.name) ?? '', '');
    for (const { method, path, op } of operations.filter((o) => o.op.tags?.includes(tag.name))) out.push(...operationSection(method, path, op, schemes));
  }
  out.push('## Schemas', '', 'The bodies the routes take and answer with, by name.', '');
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`### ${name}`, '');
    if (schema.description) out.push(schema.description, '');
    const variants = schema.anyOf ?? schema.oneOf;
    if (variants) out.push(`One of: ${variants.map((v) => (v.$ref ? typeOf(v) : v.properties ? `{ ${Object.keys(v.properties).map((k) => `\`${k}\``).join(', ')} }` : typeOf(v))).join('; ')}.`, '');
    const own = schema.allOf ? schema.allOf.find((p) => p.properties) : schema;
    if (schema.allOf) out.push(`${schema.allOf.filter((p) => p.$ref).map(typeOf).join(', ')}, and:`, '');
    if (own?.properties) out.push(...fieldsTable(own), '');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
