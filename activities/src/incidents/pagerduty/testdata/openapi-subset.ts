// Writes pagerduty-openapi-subset.json: the responses of the three operations the PagerDuty double answers, cut from
// PagerDuty's OpenAPI description of its REST API v2 (github.com/PagerDuty/api-schema, reference/REST/openapiv3.json,
// 2.7 MB) with every component they reach. To refresh it, with that file at hand:
//   node activities/src/incidents/pagerduty/testdata/openapi-subset.ts openapiv3.json
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OPERATIONS: [method: string, path: string][] = [
  ['get', '/incidents/{id}'],
  ['put', '/incidents/{id}'],
  ['post', '/incidents/{id}/notes'],
];

type Spec = { openapi: string; info: unknown; paths: Record<string, Record<string, { responses: unknown }>>; components: Record<string, Record<string, unknown>> };

const source = process.argv[2];
if (!source) throw new Error('usage: node openapi-subset.ts <openapiv3.json>');
const spec = JSON.parse(readFileSync(source, 'utf8')) as Spec;
const subset: Spec = { openapi: spec.openapi, info: spec.info, paths: {}, components: {} };

const seen = new Set<string>();
function reach(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(reach);
  if (!node || typeof node !== 'object') return;
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/') && !seen.has(ref)) {
    seen.add(ref);
    const [, , kind, name] = ref.split('/') as [string, string, string, string];
    const target = spec.components[kind]?.[name];
    if (target === undefined) throw new Error(`${ref} is not in the description`);
    (subset.components[kind] ??= {})[name] = target;
    reach(target);
  }
  for (const value of Object.values(node)) reach(value);
}

/** Examples are prose, not shapes. */
function withoutExamples(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutExamples);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k]) => k !== 'examples' && k !== 'example').map(([k, v]) => [k, withoutExamples(v)]));
}

for (const [method, path] of OPERATIONS) {
  const operation = spec.paths[path]?.[method];
  if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the description`);
  (subset.paths[path] ??= {})[method] = { responses: withoutExamples(operation.responses) };
  reach(operation.responses);
}
for (const kind of Object.keys(subset.components)) {
  for (const name of Object.keys(subset.components[kind]!)) subset.components[kind]![name] = withoutExamples(subset.components[kind]![name]);
}

writeFileSync(fileURLToPath(new URL('pagerduty-openapi-subset.json', import.meta.url)), `${JSON.stringify(subset)}\n`);
