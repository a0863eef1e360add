import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test as baseTest } from 'vitest';
import { DirectoryCatalogSource } from './catalog.ts';
import { REPO_ROOT } from './config.ts';
import { NotFoundError } from './errors.ts';

interface Repo {
  root: string;
  write(files: Record<string, string>): Promise<void>;
  catalog(): DirectoryCatalogSource;
}

const test = baseTest.extend('repo', async ({}, { onCleanup }): Promise<Repo> => {
  const root = await mkdtemp(join(tmpdir(), 'drydock-catalog-'));
  onCleanup(() => rm(root, { recursive: true, force: true }));
  return {
    root,
    async write(files) {
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), content);
      }
    },
    catalog: () => new DirectoryCatalogSource(root),
  };
});

function manifest(id: string, script = `scripts/${id}.sh`, extra = ''): string {
  return `id: ${id}\nname: ${id} script\nscript: ${script}\ninterpreter: bash\n${extra}`;
}

describe('DirectoryCatalogSource.snapshot', () => {
  test('lists every valid manifest under manifests/, nested folders included', async ({ repo }) => {
    await repo.write({
      'manifests/restart.yaml': manifest('restart'),
      'manifests/linux/disk.yml': manifest('disk', 'scripts/linux/disk.sh'),
      'manifests/README.md': '# not a manifest',
      'scripts/restart.sh': 'systemctl restart "$1"\n',
      'scripts/linux/disk.sh': 'df -h\n',
    });
    const { entries, problems } = await repo.catalog().snapshot();
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.manifest.id, e.file])).toEqual([
      ['disk', join('manifests', 'linux', 'disk.yml')],
      ['restart', join('manifests', 'restart.yaml')],
    ]);
    expect(entries[0]?.manifest).toMatchObject({ name: 'disk script', interpreter: 'bash', timeout: 300, parameters: [] });
    for (const e of entries) expect(e.version).toMatch(/^[0-9a-f]{12}$/);
  });

  test('gives a script a new version when its script changes, and the same version otherwise', async ({ repo }) => {
    await repo.write({ 'manifests/restart.yaml': manifest('restart'), 'scripts/restart.sh': 'echo one\n' });
    const before = (await repo.catalog().get('restart')).version;
    expect((await repo.catalog().get('restart')).version).toBe(before);

    await repo.write({ 'scripts/restart.sh': 'echo two\n' });
    expect((await repo.catalog().get('restart')).version).not.toBe(before);
  });

  test('gives a script a new version when its manifest changes', async ({ repo }) => {
    await repo.write({ 'manifests/restart.yaml': manifest('restart'), 'scripts/restart.sh': 'echo one\n' });
    const before = (await repo.catalog().get('restart')).version;
    await repo.write({ 'manifests/restart.yaml': manifest('restart', 'scripts/restart.sh', 'timeout: 30\n') });
    expect((await repo.catalog().get('restart')).version).not.toBe(before);
  });

  test('reports invalid YAML with the file and the line', async ({ repo }) => {
    await repo.write({ 'manifests/broken.yaml': `${manifest('broken')}\ttimeout: 30\n`, 'scripts/broken.sh': 'true\n' });
    const { entries, problems } = await repo.catalog().snapshot();
    expect(entries).toEqual([]);
    expect(problems).toEqual([{ file: join('manifests', 'broken.yaml'), line: 5, message: expect.stringMatching(/^invalid YAML: .*[Tt]ab/) }]);
  });

  test('reports a schema error with the file, the field path and its line', async ({ repo }) => {
    await repo.write({
      'manifests/restart.yaml': manifest(
        'restart',
        'scripts/restart.sh',
        'parameters:\n  - name: service\n    type: string\n  - name: count\n    type: integer\n    min: one\n',
      ),
      'scripts/restart.sh': 'true\n',
    });
    const { problems } = await repo.catalog().snapshot();
    expect(problems).toEqual([{ file: join('manifests', 'restart.yaml'), line: 10, message: expect.stringMatching(/^parameters\.1\.min: /) }]);
  });

  test('reports a manifest whose script file does not exist', async ({ repo }) => {
    await repo.write({ 'manifests/restart.yaml': manifest('restart', 'scripts/missing.sh') });
    const { entries, problems } = await repo.catalog().snapshot();
    expect(entries).toEqual([]);
    expect(problems).toEqual([{ file: join('manifests', 'restart.yaml'), message: 'script: file scripts/missing.sh not found in the repository' }]);
  });

  test('reports a duplicate id, naming the file that defined it first, and keeps the first', async ({ repo }) => {
    await repo.write({
      'manifests/a-restart.yaml': manifest('restart'),
      'manifests/b-restart.yaml': manifest('restart'),
      'scripts/restart.sh': 'true\n',
    });
    const { entries, problems } = await repo.catalog().snapshot();
    expect(entries.map((e) => e.file)).toEqual([join('manifests', 'a-restart.yaml')]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.file).toBe(join('manifests', 'b-restart.yaml'));
    expect(problems[0]?.message).toContain('duplicate id "restart"');
    expect(problems[0]?.message).toContain(join('manifests', 'a-restart.yaml'));
  });

  test('rejects a script that is a symlink to a file outside the repository', async ({ repo }) => {
    const outside = await mkdtemp(join(tmpdir(), 'drydock-outside-'));
    try {
      await writeFile(join(outside, 'passwd'), 'root:x:0:0\n');
      await repo.write({ 'manifests/leak.yaml': manifest('leak') });
      await mkdir(join(repo.root, 'scripts'), { recursive: true });
      await symlink(join(outside, 'passwd'), join(repo.root, 'scripts', 'leak.sh'));

      const { entries, problems } = await repo.catalog().snapshot();
      expect(entries).toEqual([]);
      expect(problems).toEqual([{ file: join('manifests', 'leak.yaml'), message: expect.stringContaining('scripts/leak.sh') }]);
      await expect(repo.catalog().resolve('leak')).rejects.toThrow(NotFoundError);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('follows a symlinked script that stays inside the repository', async ({ repo }) => {
    await repo.write({ 'manifests/restart.yaml': manifest('restart', 'scripts/current.sh'), 'scripts/v2/restart.sh': 'echo v2\n' });
    await symlink(join(repo.root, 'scripts', 'v2', 'restart.sh'), join(repo.root, 'scripts', 'current.sh'));
    expect((await repo.catalog().resolve('restart')).content).toBe('echo v2\n');
  });

  test('a bad manifest never hides the good ones', async ({ repo }) => {
    await repo.write({
      'manifests/01-good.yaml': manifest('good-one'),
      'manifests/02-yaml.yaml': 'id: [unclosed\n',
      'manifests/03-alias.yaml': `${manifest('alias')}description: *nowhere\n`,
      'manifests/04-schema.yaml': manifest('Bad_Id'),
      'manifests/05-missing.yaml': manifest('missing'),
      'manifests/06-empty.yaml': '',
      'manifests/07-list.yaml': '- id: list\n',
      'manifests/08-duplicate.yaml': manifest('good-one'),
      'manifests/nested/09-good.yaml': manifest('good-two'),
      'scripts/good-one.sh': 'true\n',
      'scripts/good-two.sh': 'true\n',
      'scripts/alias.sh': 'true\n',
      'scripts/Bad_Id.sh': 'true\n',
    });
    const { entries, problems } = await repo.catalog().snapshot();
    expect(entries.map((e) => e.manifest.id)).toEqual(['good-one', 'good-two']);
    expect([...new Set(problems.map((p) => p.file))]).toEqual(
      ['02-yaml.yaml', '03-alias.yaml', '04-schema.yaml', '05-missing.yaml', '06-empty.yaml', '07-list.yaml', '08-duplicate.yaml'].map((f) =>
        join('manifests', f),
      ),
    );
  });

  test('loads a repository reached through a symlinked directory', async ({ repo }) => {
    await repo.write({ 'release-2/manifests/restart.yaml': manifest('restart'), 'release-2/scripts/restart.sh': 'echo ok\n' });
    await symlink(join(repo.root, 'release-2'), join(repo.root, 'current'));
    const catalog = new DirectoryCatalogSource(join(repo.root, 'current'));
    expect((await catalog.snapshot()).problems).toEqual([]);
    expect((await catalog.resolve('restart')).content).toBe('echo ok\n');
  });

  test('a repository without a manifests directory is an error, not an empty catalog', async ({ repo }) => {
    await expect(repo.catalog().snapshot()).rejects.toThrow(/^no manifests\/ directory in /);
  });

  test('an empty manifests directory has no scripts and no problems', async ({ repo }) => {
    await repo.write({ 'manifests/README.md': 'manifests go here\n' });
    expect(await repo.catalog().snapshot()).toEqual({ entries: [], problems: [] });
  });
});

describe('DirectoryCatalogSource.resolve', () => {
  test('returns the entry and the script content', async ({ repo }) => {
    await repo.write({ 'manifests/restart.yaml': manifest('restart'), 'scripts/restart.sh': '#!/bin/bash\nsystemctl restart nginx\n' });
    const resolved = await repo.catalog().resolve('restart');
    expect(resolved.content).toBe('#!/bin/bash\nsystemctl restart nginx\n');
    expect(resolved.entry.manifest.id).toBe('restart');
    expect(resolved.entry.file).toBe(join('manifests', 'restart.yaml'));
  });

  test('throws NotFoundError for an unknown id', async ({ repo }) => {
    await repo.write({ 'manifests/restart.yaml': manifest('restart'), 'scripts/restart.sh': 'true\n' });
    await expect(repo.catalog().resolve('reboot')).rejects.toThrow(NotFoundError);
    await expect(repo.catalog().get('reboot')).rejects.toThrow('script reboot was not found');
  });
});

describe('the sample repository', () => {
  baseTest('loads without problems and resolves every script', async () => {
    const catalog = new DirectoryCatalogSource(join(REPO_ROOT, 'examples/scripts-repo'));
    const { entries, problems } = await catalog.snapshot();
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.manifest.id)).toContain('echo-params');
    for (const e of entries) {
      const { content } = await catalog.resolve(e.manifest.id);
      // Command templates and operations have no script file; every script file has content.
      if (e.manifest.script === undefined) expect(content).toBeNull();
      else expect(content?.length).toBeGreaterThan(0);
    }
  });
});
