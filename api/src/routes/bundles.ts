import { Readable } from 'node:stream';
import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { openRunBundle } from '../bundle-service.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, resourceRouter } from '../contract.ts';

const download = createRoute({
  method: 'get',
  path: '/{id}/bundle',
  tags: ['artifacts'],
  ...access('viewer', 'read'),
  summary: 'Download the reproduction bundle of a run (tar.gz)',
  description: [
    'One folder `drydock-run-<id>/`: `run.json`, `parameters.json` (secrets masked), `manifest.json` and `script/<file>` at the run\'s version, `log.txt` (the full log), `environment/` (the snapshot), `artifacts/attempt-<n>/…` (the captured files), `host.json`, `temporal-history.json` (the workflow\'s history as Temporal exports it, payloads decoded), `reproduce.sh` and `reproduce.ps1` (re-run the same version with the same parameters through the API or locally; secrets are asked for by variable), and `SHA256SUMS` (`sha256sum -c`).',
    'Written while it is sent, never held whole. A part that is gone or over the size limits is listed with the reason in `MISSING.txt` rather than failing the download.',
  ].join('\n\n'),
  request: { params: z.object({ id: z.string().meta({ description: 'The run id (a UUID; anything else is not found)' }) }) },
  responses: {
    200: { description: 'The bundle, `application/gzip`', content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } } },
    ...errors([404, "No such run in the caller's team"]),
  },
});

/** `/api/v1/runs/:runId/bundle`: a run's reproduction bundle, streamed. */
export function bundleRoutes(deps: ApiDeps) {
  return resourceRouter().openapi(download, async (c) => {
    const { id } = c.req.valid('param');
    const { run, stream } = await openRunBundle(deps, c.get('user')!.team_id, id);
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: {
        'content-type': 'application/gzip',
        'content-disposition': `attachment; filename="drydock-run-${run.id}.tar.gz"`,
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  });
}
