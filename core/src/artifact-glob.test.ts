import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactGlob, GLOB_OUTSIDE } from './artifact-glob.ts';

function matcher(glob: string): (path: string) => boolean {
  const g = artifactGlob(glob);
  if (!g.ok) throw new Error(g.reason);
  return g.matches;
}

const NAMES = ['out/report.txt', 'out/a.txt', 'out/.env', 'out/sub/b.txt', 'out/sub/deep/c.log', '.hidden/c.txt', 'report.csv', 'out/x[1].txt', 'out/café.txt'];

describe('artifactGlob', () => {
  it.each([
    ['out/*.txt', ['out/report.txt', 'out/a.txt', 'out/x[1].txt', 'out/café.txt']],
    ['out/*', ['out/report.txt', 'out/a.txt', 'out/x[1].txt', 'out/café.txt']],
    ['out/**', ['out/report.txt', 'out/a.txt', 'out/sub/b.txt', 'out/sub/deep/c.log', 'out/x[1].txt', 'out/café.txt']],
    ['out/**/*.txt', ['out/report.txt', 'out/a.txt', 'out/sub/b.txt', 'out/x[1].txt', 'out/café.txt']],
    ['**/*.txt', ['out/report.txt', 'out/a.txt', 'out/sub/b.txt', 'out/x[1].txt', 'out/café.txt']],
    ['out/.*', ['out/.env']],
    ['.hidden/*', ['.hidden/c.txt']],
    ['out/{a,report}.txt', ['out/report.txt', 'out/a.txt']],
    ['out/[ab].txt', ['out/a.txt']],
    ['out/[!a]*.txt', ['out/report.txt', 'out/x[1].txt', 'out/café.txt']],
    ['out/?.txt', ['out/a.txt']],
    ['*.csv', ['report.csv']],
  ])('%s matches what Node’s glob matches', (glob, expected) => {
    const match = matcher(glob);
    expect(NAMES.filter(match)).toEqual(expected);
    expect(NAMES.filter((n) => posix.matchesGlob(n, glob))).toEqual(expected);
  });

  it('takes a backslash as an escape and ignores a leading ./', () => {
    expect(NAMES.filter(matcher('out/x\\[1\\].txt'))).toEqual(['out/x[1].txt']);
    expect(NAMES.filter(matcher('./out/a.txt'))).toEqual(['out/a.txt']);
  });

  it('matches in time linear in the name, where a backtracking matcher takes minutes', () => {
    const braces = '{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}{u,v}{w,x}{y,z}{a,b}{c,d}{e,f}';
    expect(matcher(`out/${braces}`)(`out/${'a'.repeat(200)}`)).toBe(false);
    expect(matcher('*a*a*a*a*a*a*a*a*b')(`${'a'.repeat(250)}c`)).toBe(false);
    expect(matcher('**/**/**/**/x')(`${'d/'.repeat(1000)}y`)).toBe(false);
    expect(matcher('**/**/**/**/x')(`${'d/'.repeat(1000)}x`)).toBe(true);
  });

  it.each([
    ['../x', GLOB_OUTSIDE],
    ['/etc/passwd', GLOB_OUTSIDE],
    ['C:/x', GLOB_OUTSIDE],
    ['out/\0', GLOB_OUTSIDE],
    [`out/${'x'.repeat(300)}`, 'globs are at most 256 characters'],
    ['out/[ab', 'not a glob Drydock can match: a [ has no closing ]'],
    ['out/{a,b', 'not a glob Drydock can match: a { has no closing }'],
    ['out/{a/b,c}', 'not a glob Drydock can match: a { has no closing }'],
  ])('refuses %s with the reason', (glob, reason) => {
    expect(artifactGlob(glob)).toEqual({ ok: false, reason });
  });
});
