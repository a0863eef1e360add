import type { Parameter } from '../manifest.ts';
import type { OutputDeclaration } from './output-declaration.ts';

// Workflow-safe: pure. The types that flow through a job's templates, and which source may fill which target.

export type ValueType =
  | { type: 'string' | 'multiline' | 'integer' | 'number' | 'boolean' | 'date' | 'host' | 'host_list' | 'secret' }
  | { type: 'enum'; options: readonly string[] };

export function typeOf(declared: Parameter | OutputDeclaration): ValueType {
  return declared.type === 'enum' ? { type: 'enum', options: declared.options } : { type: declared.type };
}

export function describeType(t: ValueType): string {
  switch (t.type) {
    case 'enum':
      return `one of ${t.options.join(', ')}`;
    case 'host_list':
      return 'a host list';
    case 'integer':
      return 'a whole number';
    case 'multiline':
      return 'multi-line text';
    case 'string':
      return 'text';
    default:
      return `a ${t.type}`;
  }
}

/** Types whose values have a text form: a list has none. */
const TEXTUAL = new Set(['string', 'multiline', 'integer', 'number', 'boolean', 'date', 'host', 'enum']);

/**
 * Whether a value of `source` may fill a parameter of type `target`; null when it may, else why not. A fit
 * that only the value can decide (text into a date, a host or an enum) passes: the step's own parameter
 * validation checks the rendered value when the step starts. What can be known now is refused now.
 * `whole`: the template is the reference alone (the value keeps its type); otherwise it is part of a text.
 */
export function misfit(source: ValueType, target: ValueType, whole: boolean): string | null {
  if (source.type === 'secret' && target.type !== 'secret') return 'is a secret, and would be shown where this value goes: pass it to a secret parameter';
  if (!whole) {
    if (source.type === 'host_list') return 'is a list and cannot be part of a text: use it as the whole value';
    if (source.type === 'secret') return null;
    if (['integer', 'number', 'boolean', 'host_list'].includes(target.type)) return `is part of a text, and ${describeType(target)} is needed: make the value the reference alone`;
    return null;
  }
  if (target.type === 'secret') return source.type === 'host_list' ? 'is a list, and a secret is text' : null;
  switch (target.type) {
    case 'string':
    case 'multiline':
      return TEXTUAL.has(source.type) ? null : `is ${describeType(source)}, and text is needed`;
    case 'integer':
      return source.type === 'integer' ? null : `is ${describeType(source)}, and a whole number is needed${source.type === 'string' ? ': declare the output as integer' : ''}`;
    case 'number':
      return source.type === 'integer' || source.type === 'number' ? null : `is ${describeType(source)}, and a number is needed`;
    case 'boolean':
      return source.type === 'boolean' ? null : `is ${describeType(source)}, and true or false is needed`;
    case 'enum': {
      if (source.type === 'enum') {
        const outside = source.options.filter((o) => !target.options.includes(o));
        return outside.length === 0 ? null : `can be ${outside.join(', ')}, which ${outside.length === 1 ? 'is' : 'are'} not among ${target.options.join(', ')}`;
      }
      return source.type === 'string' || source.type === 'multiline' ? null : `is ${describeType(source)}, and ${describeType(target)} is needed`;
    }
    case 'date':
      return source.type === 'date' || source.type === 'string' ? null : `is ${describeType(source)}, and a date is needed`;
    case 'host':
      return source.type === 'host' || source.type === 'string' ? null : `is ${describeType(source)}, and a host id is needed`;
    case 'host_list':
      return source.type === 'host_list' || source.type === 'host' ? null : `is ${describeType(source)}, and a host list is needed${source.type === 'string' ? ': declare the output as host_list' : ''}`;
  }
}
