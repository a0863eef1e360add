import { CicdError } from './cicd-error.ts';
import type { CicdJobDescription, CicdParameterDefinition, CicdParams, CicdParamValue, CicdProviderKind } from './provider.ts';

/** The parameter that carries Drydock's trigger id into a build; Drydock sets it, a caller never does. */
export const TRIGGER_ID_PARAMETER = 'DRYDOCK_TRIGGER_ID';

export function isTriggerIdParameter(name: string): boolean {
  return name.toUpperCase() === TRIGGER_ID_PARAMETER;
}

type Coerced = { ok: true; value: CicdParamValue } | { ok: false; problem: string };

function coerce(def: CicdParameterDefinition, value: CicdParamValue): Coerced {
  switch (def.type) {
    case 'boolean':
      if (typeof value === 'boolean') return { ok: true, value };
      if (value === 'true' || value === 'false') return { ok: true, value: value === 'true' };
      return { ok: false, problem: `${def.name} must be true or false` };
    case 'number': {
      const n = typeof value === 'number' ? value : Number(String(value).trim());
      if (String(value).trim() === '' || !Number.isFinite(n)) return { ok: false, problem: `${def.name} must be a number` };
      return { ok: true, value: n };
    }
    case 'choice':
      if (def.choices && !def.choices.includes(String(value))) return { ok: false, problem: `${def.name} must be one of: ${def.choices.join(', ')}` };
      return { ok: true, value: String(value) };
    default:
      return { ok: true, value: String(value) };
  }
}

/**
 * Checks values against the job's definition before anything is sent: names it does not define, values it
 * refuses, required ones missing. Returns the values in the types the job declares (booleans, numbers, text).
 */
export function checkParameters(provider: CicdProviderKind, job: CicdJobDescription, params: CicdParams): Record<string, CicdParamValue> {
  const defined = new Map(job.parameters.map((p) => [p.name, p]));
  const undefinedNames = Object.keys(params).filter((name) => !defined.has(name) || isTriggerIdParameter(name));
  if (undefinedNames.length > 0) {
    const known = job.parameters.filter((p) => !isTriggerIdParameter(p.name)).map((p) => p.name);
    const reserved = undefinedNames.filter(isTriggerIdParameter);
    const others = undefinedNames.filter((n) => !isTriggerIdParameter(n));
    const parts = [
      others.length > 0 ? `${job.name} does not define ${others.map((n) => `"${n}"`).join(', ')} (it defines ${known.length > 0 ? known.join(', ') : 'no parameters'})` : '',
      reserved.length > 0 ? `${reserved.join(', ')} is set by Drydock itself` : '',
    ].filter(Boolean);
    throw new CicdError(provider, 'undefined_parameter', `${parts.join('; ')}: nothing was triggered`, { parameters: undefinedNames });
  }
  const problems: string[] = [];
  const bad: string[] = [];
  const values: Record<string, CicdParamValue> = {};
  for (const [name, value] of Object.entries(params)) {
    const result = coerce(defined.get(name)!, value);
    if (result.ok) values[name] = result.value;
    else {
      problems.push(result.problem);
      bad.push(name);
    }
  }
  for (const def of job.parameters) {
    if (def.required && def.default === undefined && params[def.name] === undefined && !isTriggerIdParameter(def.name)) {
      problems.push(`${def.name} is required`);
      bad.push(def.name);
    }
  }
  if (problems.length > 0) throw new CicdError(provider, 'invalid_parameter', `${problems.join('; ')}: nothing was triggered`, { parameters: bad });
  return values;
}
