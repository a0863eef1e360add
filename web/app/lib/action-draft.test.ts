import { describe, expect, test } from 'vitest';
import { checkManifest, errorsAt, fieldText, manifestFromForm, placedAt, renderedNames } from './action-draft.ts';
import { unplacedErrors } from './form-errors.ts';

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  return data;
}

const disk = {
  id: 'disk-usage',
  name: 'Disk usage',
  description: '',
  category: 'ops',
  tags: 'disk, linux , ',
  command_template: 'du -sh {{path}}',
  runner: 'agent',
  runner_image: '',
  timeout: '60',
  retries: '',
  retry_delay: '',
  'success_criteria.exit_codes': '0, 1',
  'success_criteria.output_contains': 'total\n\n',
  'success_criteria.output_not_contains': '',
  'success_criteria.max_execution_time': '',
  host_tags: 'linux',
  'parameters.0.name': 'path',
  'parameters.0.type': 'string',
  'parameters.0.title': 'Path',
  'parameters.0.description': '',
  'parameters.0.required': 'true',
  'parameters.0.default': '/var',
  'parameters.0.pattern': '^/',
  'parameters.0.min_length': '',
  'parameters.0.max_length': '200',
  'parameters.1.name': 'when',
  'parameters.1.type': 'date',
  'parameters.1.min': '2026-01-01',
  'parameters.1.max': '',
  'parameters.1.default': '',
  'parameters.2.name': 'peers',
  'parameters.2.type': 'host_list',
  'parameters.2.default': 'web-1, web-2',
  'parameters.2.max': '3',
};

describe('action editor', () => {
  test('turns the form into the manifest the API takes: lists split, numbers typed, blanks left out', () => {
    expect(manifestFromForm(form(disk))).toEqual({
      id: 'disk-usage',
      name: 'Disk usage',
      category: 'ops',
      tags: ['disk', 'linux'],
      command_template: 'du -sh {{path}}',
      runner: 'agent',
      timeout: 60,
      success_criteria: { exit_codes: [0, 1], output_contains: ['total'] },
      host_tags: ['linux'],
      parameters: [
        { name: 'path', type: 'string', title: 'Path', required: true, default: '/var', pattern: '^/', max_length: 200 },
        { name: 'when', type: 'date', min: '2026-01-01' },
        { name: 'peers', type: 'host_list', default: ['web-1', 'web-2'], max: 3 },
      ],
    });
    expect(checkManifest(manifestFromForm(form(disk)))).toEqual({});
  });

  test('reports problems under the paths the API uses', () => {
    const bad = manifestFromForm(form({ ...disk, id: 'Disk Usage', 'parameters.0.name': 'Path', 'parameters.2.max': 'lots' }));
    expect(Object.keys(checkManifest(bad)).sort()).toEqual(['id', 'parameters.0.name', 'parameters.2.max']);
    // Checks across fields run once every field parses on its own, as in the API.
    const unknown = manifestFromForm(form({ ...disk, command_template: 'du -sh {{where}}' }));
    expect(checkManifest(unknown)).toEqual({ command_template: ['{{where}} is not a parameter of this manifest'] });
  });

  test('a missing command is reported at the command, not at a script field the editor lacks', () => {
    expect(checkManifest(manifestFromForm(form({ id: 'x', name: 'X' })))).toEqual({ command_template: ['Write the command this action runs'] });
  });

  test('list items report under their list; unknown paths are listed apart', () => {
    const fields = { 'success_criteria.exit_codes.1': ['too big'], 'parameters.0.options.2': ['empty'], capture: ['not here'] };
    expect(errorsAt(fields, 'success_criteria.exit_codes')).toEqual(['too big']);
    expect(errorsAt(fields, 'parameters.0.options')).toEqual(['empty']);
    expect(errorsAt(fields, 'parameters.0')).toEqual([]);
    expect(unplacedErrors(fields, placedAt(renderedNames(['enum'])))).toEqual([['capture', ['not here']]]);
  });

  test('manifest fields the editor has no inputs for ride along', () => {
    const m = manifestFromForm(form({ ...disk, _preserved: JSON.stringify({ capture: { artifacts: ['out/*.log'] }, name: 'ignored' }) }));
    expect(m.capture).toEqual({ artifacts: ['out/*.log'] });
    expect(m.name).toBe('Disk usage');
  });

  test('stored values become input text', () => {
    expect(fieldText(['a', 'b'])).toBe('a, b');
    expect(fieldText(['x', 'y'], '\n')).toBe('x\ny');
    expect(fieldText(3)).toBe('3');
    expect(fieldText(undefined)).toBe('');
  });
});
