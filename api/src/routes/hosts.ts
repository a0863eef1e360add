import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { HostListQuerySchema, HostListSchema, HostPatchSchema, HostViewSchema, NewHostBodySchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import { addHost, changeHost, hostView, hostViews, removeHost } from '../host-service.ts';

const HostParams = z.object({ id: z.string().meta({ description: 'The host id' }) });

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['hosts'],
  ...access('viewer', 'read'),
  summary: 'Hosts, filtered by tags, environment, transport, status and when last seen, with liveness, running runs, last error and lock',
  request: { query: HostListQuerySchema },
  responses: { 200: json(HostListSchema, 'The hosts that match'), ...errors(400) },
});

const add = createRoute({
  method: 'post',
  path: '/',
  tags: ['hosts'],
  ...access('maintainer', 'manage'),
  summary: 'Add an SSH or WinRM host (with a stored credential), or a Docker engine',
  description: 'Nothing connects when a host is added: the first run connects and pins the host key, or a WinRM host\'s certificate fingerprint.',
  request: { body: jsonBody(NewHostBodySchema) },
  responses: {
    201: json(HostViewSchema, 'Added: `online` false, `status` unreachable, `hostKeyPinned` false'),
    ...errors([400, 'The body fails the schema; an unknown credential, one of the wrong kind, or a jump host that is not a direct SSH host'], [409, 'A host (of any transport) has this id, or this name']),
  },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['hosts'],
  ...access('viewer', 'read'),
  summary: 'One host',
  request: { params: HostParams },
  responses: { 200: json(HostViewSchema, 'The host'), ...errors(404) },
});

const change = createRoute({
  method: 'patch',
  path: '/{id}',
  tags: ['hosts'],
  ...access('maintainer', 'manage'),
  summary: 'Change a host; `resetHostKey` forgets its pinned SSH host key or WinRM certificate',
  description:
    'A new `address` forgets the pinned key too; a new `port` does not. On an agent host only `name`, `environment`, `group` and `tags` change (tags until its next heartbeat).',
  request: { params: HostParams, body: jsonBody(HostPatchSchema) },
  responses: {
    200: json(HostViewSchema, 'The host as it is now'),
    ...errors([400, 'The body fails the schema, or sets what this transport does not have (`transport: connection settings apply to SSH and WinRM hosts only`)'], 404, 409),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['hosts'],
  ...access('maintainer', 'manage'),
  summary: "Remove a host and its agent's tokens; its runs stay",
  request: { params: HostParams },
  responses: { 204: { description: 'Removed' }, ...errors(404, [409, 'Another host reaches its target through this one']) },
});

export function hostRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      const tags = q.tags?.split(',').map((t) => t.trim()).filter(Boolean) ?? [];
      return c.json({ hosts: await hostViews(deps, c.get('user')!.team_id, { ...q, tags }) }, 200);
    })
    .openapi(read, async (c) => c.json(await hostView(deps, c.get('user')!.team_id, c.req.valid('param').id), 200))
    .openapi(add, async (c) => {
      const body = c.req.valid('json');
      const address = body.transport === 'docker' ? body.socketPath : body.address;
      noteAudit(c, { action: 'host.create', resource: `host:${body.id}`, detail: { transport: body.transport, address } });
      return c.json(await addHost(deps, c.get('user')!.team_id, body), 201);
    })
    .openapi(change, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      noteAudit(c, { action: body.resetHostKey ? 'host.reset-host-key' : 'host.update', resource: `host:${id}`, detail: { fields: Object.keys(body) } });
      return c.json(await changeHost(deps, c.get('user')!.team_id, id, body), 200);
    })
    .openapi(remove, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'host.delete', resource: `host:${id}` });
      await removeHost(deps, c.get('user')!.team_id, id);
      return c.body(null, 204);
    });
}
