/**
 * The pages' CSP allows no eval, and zod probes `new Function` the first time it builds an object schema: the
 * browser reports that as a violation even though zod catches it. Imported first by the root route, so the
 * flag is set before any schema module runs. zod keeps its settings on this global for exactly this purpose.
 */
if (typeof document !== 'undefined') {
  const scope = globalThis as { __zod_globalConfig?: { jitless?: boolean } };
  (scope.__zod_globalConfig ??= {}).jitless = true;
}
