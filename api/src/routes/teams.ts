import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { NewTeamBodySchema, TeamListSchema, TeamPatchSchema, TeamViewSchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import { changeTeam, createTeam, listTeams } from '../team-service.ts';

const tags = ['identity'];
const TeamParams = z.object({ teamId: z.string().meta({ description: 'A team of the caller' }) });

const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  ...access('viewer', 'read'),
  summary: "The caller's teams, with the role in each; switch with POST /api/v1/me/team",
  responses: { 200: json(TeamListSchema, 'The teams') },
});

const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  ...access('admin', 'manage'),
  summary: 'Create a team; the caller, an admin of their current team, becomes its admin',
  description: 'The team starts with the default environments and no hosts. Add members on its Members page after switching to it.',
  request: { body: jsonBody(NewTeamBodySchema) },
  responses: {
    201: json(TeamViewSchema, 'Created'),
    ...errors(400, [403, 'Not an admin of the current team, or a service account'], [409, 'A team with this id exists']),
  },
});

const change = createRoute({
  method: 'patch',
  path: '/{teamId}',
  tags,
  ...access('admin', 'manage'),
  summary: 'Rename or describe a team the caller is an admin of; the id never changes',
  request: { params: TeamParams, body: jsonBody(TeamPatchSchema) },
  responses: { 200: json(TeamViewSchema, 'The team as it is now'), ...errors(400, [403, 'Not an admin of that team'], [404, 'Not a team of the caller']) },
});

/** `/api/v1/teams`: the teams people belong to, created and renamed by admins. */
export function teamRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json({ teams: await listTeams(deps, c.get('principal')!) }, 200))
    .openapi(create, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'team.create', resource: `team:${body.id}`, detail: { name: body.name } });
      return c.json(await createTeam(deps, c.get('principal')!, body), 201);
    })
    .openapi(change, async (c) => {
      const { teamId } = c.req.valid('param');
      const body = c.req.valid('json');
      noteAudit(c, { action: 'team.update', resource: `team:${teamId}`, detail: body });
      return c.json(await changeTeam(deps, c.get('principal')!, teamId, body), 200);
    });
}
