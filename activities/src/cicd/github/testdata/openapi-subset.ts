// Writes github-openapi-subset.json: the operations the GitHub double answers and the schemas its webhooks carry,
// cut from GitHub's OpenAPI description of api.github.com with every component they reach. The whole description
// (the @octokit/openapi package) weighs 385 MB, too much to install for a dozen schemas. To refresh it:
//   npm pack @octokit/openapi && tar xzf octokit-openapi-*.tgz
//   node activities/src/cicd/github/testdata/openapi-subset.ts package/generated/api.github.com.json
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OPERATIONS: [method: string, path: string][] = [
  ['get', '/user'],
  ['get', '/repos/{owner}/{repo}'],
  ['get', '/repos/{owner}/{repo}/contents/{path}'],
  ['get', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}'],
  ['post', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches'],
  ['get', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs'],
  ['get', '/repos/{owner}/{repo}/actions/runs/{run_id}'],
  ['get', '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs'],
  ['get', '/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts'],
  ['post', '/repos/{owner}/{repo}/actions/runs/{run_id}/cancel'],
];
const SCHEMAS = ['basic-error', 'workflow-run', 'job'];

type Spec = { openapi: string; info: unknown; paths: Record<string, Record<string, { responses: unknown }>>; components: Record<string, Record<string, unknown>> };

const source = process.argv[2];
if (!source) throw new Error('usage: node openapi-subset.ts <api.github.com.json>');
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

for (const [method, path] of OPERATIONS) {
  const operation = spec.paths[path]?.[method];
  if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the description`);
  // Responses are all the double is checked against; requests and examples stay out of the file.
  (subset.paths[path] ??= {})[method] = { responses: operation.responses };
  reach(operation.responses);
}
for (const name of SCHEMAS) reach({ $ref: `#/components/schemas/${name}` });
// Examples are prose, not shapes.
delete subset.components.examples;

writeFileSync(fileURLToPath(new URL('github-openapi-subset.json', import.meta.url)), `${JSON.stringify(subset)}\n`);
