import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TEMPLATE_LENGTH, parseTemplate, printTemplate, renderTemplate, renderValue, substituteTemplate, type Template, type TemplatePart, TemplateRenderError } from './job-template.ts';

function parsed(text: string): Template {
  const result = parseTemplate(text);
  if (!result.ok) throw new Error(result.error);
  return result.template;
}

describe('the template grammar', () => {
  it('reads parameters and step outputs, with or without blanks inside the braces', () => {
    expect(parsed('{{ params.service }}')).toEqual({ parts: [{ kind: 'param', name: 'service' }], whole: true });
    expect(parsed('{{steps.check.outputs.version}}')).toEqual({ parts: [{ kind: 'output', step: 'check', name: 'version' }], whole: true });
    expect(parsed('v{{ steps.pre-check.outputs.version }}-{{\tparams.env\t}}')).toEqual({
      parts: [{ kind: 'text', text: 'v' }, { kind: 'output', step: 'pre-check', name: 'version' }, { kind: 'text', text: '-' }, { kind: 'param', name: 'env' }],
      whole: false,
    });
  });

  it('treats text without braces, and a lone "}}", as text', () => {
    expect(parsed('plain }} text')).toEqual({ parts: [{ kind: 'text', text: 'plain }} text' }], whole: false });
  });

  it('writes a literal "{{" as a quoted literal', () => {
    expect(parsed("echo {{ '{{' }}not a template}}")).toEqual({ parts: [{ kind: 'text', text: 'echo {{not a template}}' }], whole: false });
  });

  it('says where a template is wrong and what to write instead', () => {
    const error = (text: string) => {
      const result = parseTemplate(text);
      return result.ok ? 'parsed' : result.error;
    };
    expect(error('a {{ env.HOME }}')).toBe('at character 3: "env" is not something a template can refer to: write {{ params.<name> }} or {{ steps.<step id>.outputs.<name> }}');
    expect(error('{{ params.x')).toMatch(/^at character 1: the expression is closed with "}}", but the text ends/);
    expect(error('{{ steps.check.version }}')).toBe('at character 1: after steps.check comes ".outputs.<name>": a step passes data forward through its outputs');
    expect(error('{{ params.Service }}')).toMatch(/a parameter name follows "params."/);
    expect(error('{{ params.a params.b }}')).toMatch(/one expression holds one reference/);
    expect(error("{{ 'open }}")).toMatch(/has no closing '/);
    expect(error('{{ }}')).toMatch(/the expression is empty/);
    expect(error('x'.repeat(MAX_TEMPLATE_LENGTH + 1))).toMatch(/at most 16384 characters/);
  });

  it('parses any text without throwing, and hostile text in one pass', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('{', '}', ' ', "'", 'p', 'a', 'r', 'm', 's', '.', 'x') }), (text) => {
      parseTemplate(text);
    }));
    // What would make a backtracking matcher stall: many openings that never close.
    const hostile = '{{ params.'.repeat(1500);
    expect(parseTemplate(hostile).ok).toBe(false);
  });

  it('prints what it parses: parse(print(parts)) gives the parts back', () => {
    const text = fc.string({ unit: fc.constantFrom('{', '}', "'", ' ', 'a', '.', '\n') }).filter((t) => t !== '');
    const ref = fc.oneof(
      fc.constantFrom('a', 'service', 'x_1').map((name): TemplatePart => ({ kind: 'param', name })),
      fc.tuple(fc.constantFrom('check', 'a-b', 'lib/inner'), fc.constantFrom('version', 'v2')).map(([step, name]): TemplatePart => ({ kind: 'output', step, name })),
    );
    const parts = fc.array(fc.oneof(text.map((t): TemplatePart => ({ kind: 'text', text: t })), ref), { maxLength: 6 }).map((list) => {
      const merged: TemplatePart[] = [];
      for (const part of list) {
        const last = merged.at(-1);
        if (part.kind === 'text' && last?.kind === 'text') merged[merged.length - 1] = { kind: 'text', text: last.text + part.text };
        else merged.push(part);
      }
      return merged;
    });
    fc.assert(fc.property(parts, (list) => {
      expect(parsed(printTemplate(list)).parts).toEqual(list);
    }));
  });
});

describe('rendering', () => {
  const scope = {
    params: { service: 'api', replicas: 3, nodes: ['web-1', 'web-2'], dry_run: false },
    steps: { check: { version: '2.4.1', notes: 'line one\nline two' } },
  };

  it('keeps the type of a value that is one reference alone', () => {
    expect(renderTemplate(parsed('{{ params.replicas }}'), scope)).toBe(3);
    expect(renderTemplate(parsed('{{ params.nodes }}'), scope)).toEqual(['web-1', 'web-2']);
    expect(renderTemplate(parsed('{{ params.dry_run }}'), scope)).toBe(false);
  });

  it('renders text around references as text, values as they are: no quoting, no shell', () => {
    const hostile = { params: { name: "'; rm -rf / #$(reboot)" }, steps: {} };
    expect(renderTemplate(parsed('release {{ params.name }} now'), hostile)).toBe("release '; rm -rf / #$(reboot) now");
    expect(renderTemplate(parsed('{{ params.service }} x{{ params.replicas }}'), scope)).toBe('api x3');
    expect(renderTemplate(parsed('{{ steps.check.outputs.notes }}!'), scope)).toBe('line one\nline two!');
  });

  it('refuses a list inside text and names the reference', () => {
    expect(() => renderTemplate(parsed('on {{ params.nodes }}'), scope)).toThrow(new TemplateRenderError('{{ params.nodes }} is a list and cannot be part of a text: use it as the whole value'));
  });

  it('says which value is missing and why', () => {
    expect(() => renderTemplate(parsed('{{ params.other }}'), scope)).toThrow('{{ params.other }} has no value: the job was started without other, and it has no default');
    expect(() => renderTemplate(parsed('{{ steps.deploy.outputs.version }}'), scope)).toThrow('step deploy has not succeeded in this run');
    expect(() => renderTemplate(parsed('{{ steps.check.outputs.commit }}'), scope)).toThrow('step check did not write commit to its DRYDOCK_OUTPUT file');
  });

  it('renders step values: literals as they are, list elements one by one', () => {
    expect(renderValue(7, scope)).toBe(7);
    expect(renderValue('no braces', scope)).toBe('no braces');
    expect(renderValue(['db-1', '{{ params.service }}-1'], scope)).toEqual(['db-1', 'api-1']);
  });
});

describe('substitution (step library expansion)', () => {
  const toLib = (ref: { step: string; name: string; kind: 'output' }) => ({ ...ref, step: `drain/${ref.step}` });

  it('puts the value the job gave in place of a library parameter, keeping a whole value as it is', () => {
    expect(substituteTemplate(parsed('{{ params.node }}'), { node: '{{ steps.pick.outputs.host }}' }, toLib)).toBe('{{ steps.pick.outputs.host }}');
    expect(substituteTemplate(parsed('{{ params.count }}'), { count: 3 }, toLib)).toBe(3);
    expect(substituteTemplate(parsed('{{ params.nodes }}'), { nodes: ['a', 'b'] }, toLib)).toEqual(['a', 'b']);
  });

  it('splices values into text and prefixes the library\'s own step outputs', () => {
    expect(substituteTemplate(parsed('drain {{ params.node }} after {{ steps.cordon.outputs.at }}'), { node: 'web-{{ params.n }}' }, toLib)).toBe(
      'drain web-{{ params.n }} after {{ steps.drain/cordon.outputs.at }}',
    );
    expect(substituteTemplate(parsed('x{{ params.count }}'), { count: 2 }, toLib)).toBe('x2');
    expect(substituteTemplate(parsed('literal {{ params.text }}'), { text: "a {{ '{{' }}" }, toLib)).toBe("literal a {{ '{{' }}");
  });
});
