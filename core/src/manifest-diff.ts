import type { Manifest, Parameter } from './manifest.ts';

/** JSON with object keys sorted: stored manifests come back from jsonb with their keys in another order. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );
}

const show = (v: unknown): string => (v === undefined ? 'unset' : stable(v));

function paramChanges(before: Parameter, after: Parameter): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: string[] = [];
  for (const key of keys) {
    if (key === 'name') continue;
    const a = (before as Record<string, unknown>)[key];
    const b = (after as Record<string, unknown>)[key];
    if (stable(a) !== stable(b)) out.push(`${key} ${show(a)} → ${show(b)}`);
  }
  return out;
}

/** What changed between two versions of a manifest (and its script), in words for the version history. */
export function describeManifestChanges(
  before: { manifest: Manifest; script: string | null } | undefined,
  after: { manifest: Manifest; script: string | null },
): string[] {
  if (!before) return ['first version'];
  const out: string[] = [];
  const a = before.manifest as Record<string, unknown>;
  const b = after.manifest as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key === 'parameters') continue;
    if (stable(a[key]) !== stable(b[key])) out.push(`${key}: ${show(a[key])} → ${show(b[key])}`);
  }
  const old = new Map(before.manifest.parameters.map((p) => [p.name, p]));
  const now = new Map(after.manifest.parameters.map((p) => [p.name, p]));
  for (const [name, p] of now) {
    const prev = old.get(name);
    if (!prev) out.push(`parameter ${name} added (${p.type})`);
    else {
      const changed = paramChanges(prev, p);
      if (changed.length > 0) out.push(`parameter ${name}: ${changed.join(', ')}`);
    }
  }
  for (const name of old.keys()) if (!now.has(name)) out.push(`parameter ${name} removed`);
  if ((before.script ?? '') !== (after.script ?? '')) out.push('script changed');
  return out.length > 0 ? out : ['no change to the manifest or script'];
}
