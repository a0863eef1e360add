import { RE2JS } from 're2js';

// Browser-safe. Node's glob matching (minimatch) backtracks: `*a*a*a*b` against a long file name, or sixteen
// `{a,b}` groups, stalls a worker for seconds to minutes. Artifact globs are matched here instead, name by
// name with RE2 and path segments by a table walk, in time linear in the path.

/** Longer globs are refused: nobody needs them, and they bound the work of compiling one. */
export const MAX_GLOB_LENGTH = 256;

export type ArtifactGlob = { ok: true; matches: (path: string) => boolean } | { ok: false; reason: string };

/** The reason a glob that leaves the work directory is refused; the manifest and every host say it alike. */
export const GLOB_OUTSIDE = `globs are relative to the run's work directory, without ".."`;

class GlobSyntaxError extends Error {}

/** One path segment of a glob (no `/`) as an RE2 pattern: `*`, `?`, `[…]` (`[!…]` negates), `{a,b}`, `\x`. */
function segmentPattern(segment: string): string {
  let i = 0;
  const alternatives = (closing: boolean): string => {
    const options: string[] = [];
    let out = '';
    while (i < segment.length) {
      const ch = segment[i]!;
      if (closing && (ch === ',' || ch === '}')) {
        options.push(out);
        out = '';
        i++;
        if (ch === '}') return `(?:${options.join('|')})`;
        continue;
      }
      i++;
      if (ch === '\\') {
        const next = segment[i++];
        if (next === undefined) throw new GlobSyntaxError('a glob cannot end with \\');
        out += RE2JS.quote(next);
      } else if (ch === '*') {
        out += '.*';
      } else if (ch === '?') {
        out += '.';
      } else if (ch === '[') {
        const end = segment.indexOf(']', i + (segment[i] === '!' || segment[i] === '^' ? 2 : 1));
        if (end === -1) throw new GlobSyntaxError('a [ has no closing ]');
        let body = segment.slice(i, end);
        i = end + 1;
        const negated = body.startsWith('!') || body.startsWith('^');
        if (negated) body = body.slice(1);
        out += `[${negated ? '^' : ''}${body.replace(/[\\[\]^]/g, (c) => `\\${c}`)}]`;
      } else if (ch === '{') {
        out += alternatives(true);
      } else {
        out += RE2JS.quote(ch);
      }
    }
    if (closing) throw new GlobSyntaxError('a { has no closing }');
    return out;
  };
  return alternatives(false);
}

/**
 * An artifact glob, relative to the run's work directory: `*` and `?` within a name, `[…]` and `{a,b}`
 * alternatives, `**` for any number of directories. A wildcard never matches a name that starts with a
 * dot: a segment must start with `.` to match one (`.env`, `.*`), so `out/*` never takes `out/.env`.
 */
export function artifactGlob(glob: string): ArtifactGlob {
  if (glob === '' || glob.startsWith('/') || /^[A-Za-z]:/.test(glob) || glob.split(/[\\/]/).includes('..') || glob.includes('\0')) {
    return { ok: false, reason: GLOB_OUTSIDE };
  }
  if (glob.length > MAX_GLOB_LENGTH) return { ok: false, reason: `globs are at most ${MAX_GLOB_LENGTH} characters` };
  const segments = glob.split('/').filter((s) => s !== '' && s !== '.');
  let names: ({ dot: boolean; test: (name: string) => boolean } | '**')[];
  try {
    names = segments.map((s) => {
      if (s === '**') return '**';
      const compiled = RE2JS.compile(segmentPattern(s), RE2JS.DOTALL);
      return { dot: s.startsWith('.'), test: (name: string) => compiled.testExact(name) };
    });
  } catch (err) {
    const said = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    return { ok: false, reason: `not a glob Drydock can match: ${said}` };
  }
  return {
    ok: true,
    matches(path) {
      const parts = path.split('/');
      // reach[j]: the glob's first i segments can match the path's first j parts; one row per glob segment.
      let reach = Array.from({ length: parts.length + 1 }, (_, j) => j === 0);
      for (const seg of names) {
        const next = new Array<boolean>(parts.length + 1).fill(false);
        for (let j = 0; j <= parts.length; j++) {
          if (seg === '**') {
            // Zero or more names, none of them hidden.
            if (reach[j] || (j > 0 && next[j - 1] && !parts[j - 1]!.startsWith('.'))) next[j] = true;
          } else if (j > 0 && reach[j - 1]) {
            const name = parts[j - 1]!;
            next[j] = (seg.dot || !name.startsWith('.')) && seg.test(name);
          }
        }
        reach = next;
      }
      return reach[parts.length] ?? false;
    },
  };
}

/** The manifest's globs as matchers; each one refused is a line for the run's log, and the others still count. */
export function artifactMatchers(globs: readonly string[], log: (line: string) => void): { glob: string; matches: (path: string) => boolean }[] {
  return globs.flatMap((glob) => {
    const compiled = artifactGlob(glob);
    if (compiled.ok) return [{ glob, matches: compiled.matches }];
    log(`artifact glob ${glob} refused: ${compiled.reason}`);
    return [];
  });
}
