import { parse } from 'yaml';
import type { CicdParameterDefinition } from '../provider.ts';

/** The input that carries Drydock's trigger id; a workflow that echoes it in `run-name` can be found again. */
export const TRIGGER_ID_INPUT = 'drydock_trigger_id';

export interface WorkflowFile {
  /** False when the workflow has no `workflow_dispatch` trigger: it cannot be run through the API. */
  dispatchable: boolean;
  inputs: CicdParameterDefinition[];
  /** `run-name` as written, when there is one. */
  runName?: string;
  /** The workflow takes drydock_trigger_id and puts it in its run name, so each run can be found by it. */
  echoesTriggerId: boolean;
}

const INPUT_TYPES: Record<string, CicdParameterDefinition['type']> = { string: 'string', boolean: 'boolean', choice: 'choice', number: 'number', environment: 'string' };

/** Reads what `workflow_dispatch` declares in a workflow file (https://docs.github.com/actions/reference/workflow-syntax-for-github-actions). */
export function readWorkflowFile(source: string): WorkflowFile {
  let doc: Record<string, unknown>;
  try {
    doc = (parse(source) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`the workflow file is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const on = doc['on'];
  let dispatch: unknown;
  if (typeof on === 'string') dispatch = on === 'workflow_dispatch' ? {} : undefined;
  else if (Array.isArray(on)) dispatch = on.includes('workflow_dispatch') ? {} : undefined;
  else if (on && typeof on === 'object') dispatch = 'workflow_dispatch' in on ? ((on as Record<string, unknown>)['workflow_dispatch'] ?? {}) : undefined;
  const declared = ((dispatch as { inputs?: unknown } | undefined)?.inputs ?? {}) as Record<string, Record<string, unknown> | null>;
  const inputs: CicdParameterDefinition[] = Object.entries(declared).map(([name, raw]) => {
    const spec = raw ?? {};
    const def: CicdParameterDefinition = { name, type: INPUT_TYPES[String(spec['type'] ?? 'string')] ?? 'string' };
    if (typeof spec['description'] === 'string') def.description = spec['description'];
    const value = spec['default'];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') def.default = value;
    if (Array.isArray(spec['options'])) def.choices = (spec['options'] as unknown[]).map(String);
    if (spec['required'] === true) def.required = true;
    return def;
  });
  const runName = typeof doc['run-name'] === 'string' ? doc['run-name'] : undefined;
  const echoesTriggerId = inputs.some((i) => i.name === TRIGGER_ID_INPUT) && runName !== undefined && new RegExp(`\\$\\{\\{\\s*(github\\.event\\.)?inputs\\.${TRIGGER_ID_INPUT}\\s*\\}\\}`).test(runName);
  return { dispatchable: dispatch !== undefined, inputs, ...(runName !== undefined ? { runName } : {}), echoesTriggerId };
}
