import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  ChannelCreatedSchema,
  ChannelListSchema,
  CreateChannelBodySchema,
  DeliveryListSchema,
  DeliveryQuerySchema,
  DeliveryViewSchema,
  PreferencesSchema,
  RuleBodySchema,
  RuleListSchema,
  RuleViewSchema,
} from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import {
  createChannel,
  createRule,
  deleteChannel,
  deleteRule,
  getPreferences,
  listChannels,
  listDeliveries,
  listRules,
  sendTest,
  setPreferences,
  updateChannel,
  updateRule,
} from '../notification-service.ts';

const IdParams = z.object({ id: z.string().meta({ description: 'The channel or rule id (UUIDv7)' }) });
const tags = ['notifications'];

const listChannelsRoute = createRoute({
  method: 'get',
  path: '/channels',
  tags,
  ...access('viewer', 'read'),
  summary: "The team's channels, each with its latest delivery; a failing channel says so",
  responses: { 200: json(ChannelListSchema, 'The channels') },
});

const createChannelRoute = createRoute({
  method: 'post',
  path: '/channels',
  tags,
  ...access('maintainer', 'manage'),
  summary: 'Add an email, Slack, Teams or webhook channel; a webhook without a secret gets one, returned this once',
  request: { body: jsonBody(CreateChannelBodySchema) },
  responses: {
    201: json(ChannelCreatedSchema, 'The channel; secrets are never returned, except a generated signing secret now'),
    ...errors([400, 'Invalid settings, a name taken, a URL the address guard refuses (named by field), or no SMTP server for email']),
  },
});

const updateChannelRoute = createRoute({
  method: 'put',
  path: '/channels/{id}',
  tags,
  ...access('maintainer', 'manage'),
  summary: "Replace a channel's settings (its kind stays); a webhook without a new secret keeps its old one",
  request: { params: IdParams, body: jsonBody(CreateChannelBodySchema) },
  responses: { 200: json(ChannelCreatedSchema, 'The channel'), ...errors(400, 404) },
});

const deleteChannelRoute = createRoute({
  method: 'delete',
  path: '/channels/{id}',
  tags,
  ...access('maintainer', 'manage'),
  summary: 'Remove a channel (and from every rule); its delivery log stays',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted' }, ...errors(404) },
});

const testChannelRoute = createRoute({
  method: 'post',
  path: '/channels/{id}/test',
  tags,
  ...access('maintainer', 'manage'),
  summary: 'Send a test message through the channel now (one attempt) and answer with its delivery log entry',
  request: { params: IdParams },
  responses: { 200: json(DeliveryViewSchema, 'The delivery: `status` delivered or failed, the attempt with the receiver\'s answer'), ...errors(404) },
});

const listRulesRoute = createRoute({
  method: 'get',
  path: '/rules',
  tags,
  ...access('viewer', 'read'),
  summary: "The team's rules: which events, for which scripts, environments and tags, go to which channels",
  responses: { 200: json(RuleListSchema, 'The rules') },
});

const createRuleRoute = createRoute({
  method: 'post',
  path: '/rules',
  tags,
  ...access('maintainer', 'manage'),
  summary: 'Add a rule',
  request: { body: jsonBody(RuleBodySchema) },
  responses: { 201: json(RuleViewSchema, 'The rule'), ...errors([400, 'Invalid rule, a name taken, or a channel the team does not have']) },
});

const updateRuleRoute = createRoute({
  method: 'put',
  path: '/rules/{id}',
  tags,
  ...access('maintainer', 'manage'),
  summary: 'Replace a rule',
  request: { params: IdParams, body: jsonBody(RuleBodySchema) },
  responses: { 200: json(RuleViewSchema, 'The rule'), ...errors(400, 404) },
});

const deleteRuleRoute = createRoute({
  method: 'delete',
  path: '/rules/{id}',
  tags,
  ...access('maintainer', 'manage'),
  summary: 'Remove a rule',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted' }, ...errors(404) },
});

const getPreferencesRoute = createRoute({
  method: 'get',
  path: '/preferences',
  tags,
  ...access('viewer', 'read'),
  summary: 'Your own preferences for events of your runs',
  responses: { 200: json(PreferencesSchema, 'Your preferences') },
});

const setPreferencesRoute = createRoute({
  method: 'put',
  path: '/preferences',
  tags,
  ...access('viewer', 'manage'),
  summary: 'Replace your preferences: mute events of your runs (left out of every email) or subscribe to them (an email of your own)',
  request: { body: jsonBody(PreferencesSchema) },
  responses: { 200: json(PreferencesSchema, 'Your preferences'), ...errors([400, 'An event twice, or a subscription on a server without SMTP']) },
});

const listDeliveriesRoute = createRoute({
  method: 'get',
  path: '/deliveries',
  tags,
  ...access('viewer', 'read'),
  summary: 'The delivery log, newest first: every attempt with the receiver\'s status and the start of its answer',
  request: { query: DeliveryQuerySchema },
  responses: { 200: json(DeliveryListSchema, 'The deliveries') },
});

/** `/api/v1/notifications`: channels, rules, personal preferences, the delivery log. */
export function notificationRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(listChannelsRoute, async (c) => c.json({ channels: await listChannels(deps, c.get('user')!.team_id) }, 200))
    .openapi(createChannelRoute, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'notification_channel.create', detail: { name: body.name, kind: body.kind } });
      const view = await createChannel(deps, c.get('user')!, body);
      noteAudit(c, { action: 'notification_channel.create', resource: `notification_channel:${view.id}`, detail: { name: body.name, kind: body.kind, target: view.target } });
      return c.json(view, 201);
    })
    .openapi(updateChannelRoute, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      noteAudit(c, { action: 'notification_channel.update', resource: `notification_channel:${id}`, detail: { name: body.name, kind: body.kind } });
      return c.json(await updateChannel(deps, c.get('user')!, id, body), 200);
    })
    .openapi(deleteChannelRoute, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'notification_channel.delete', resource: `notification_channel:${id}` });
      await deleteChannel(deps, c.get('user')!.team_id, id);
      return c.body(null, 204);
    })
    .openapi(testChannelRoute, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'notification_channel.test', resource: `notification_channel:${id}` });
      return c.json(await sendTest(deps, c.get('user')!, id), 200);
    })
    .openapi(listRulesRoute, async (c) => c.json({ rules: await listRules(deps, c.get('user')!.team_id) }, 200))
    .openapi(createRuleRoute, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'notification_rule.create', detail: { name: body.name } });
      const view = await createRule(deps, c.get('user')!, body);
      noteAudit(c, { action: 'notification_rule.create', resource: `notification_rule:${view.id}`, detail: { name: body.name, events: body.events } });
      return c.json(view, 201);
    })
    .openapi(updateRuleRoute, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      noteAudit(c, { action: 'notification_rule.update', resource: `notification_rule:${id}`, detail: { name: body.name, events: body.events } });
      return c.json(await updateRule(deps, c.get('user')!, id, body), 200);
    })
    .openapi(deleteRuleRoute, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'notification_rule.delete', resource: `notification_rule:${id}` });
      await deleteRule(deps, c.get('user')!.team_id, id);
      return c.body(null, 204);
    })
    .openapi(getPreferencesRoute, async (c) => c.json(await getPreferences(deps, c.get('user')!), 200))
    .openapi(setPreferencesRoute, async (c) => c.json(await setPreferences(deps, c.get('user')!, c.req.valid('json')), 200))
    .openapi(listDeliveriesRoute, async (c) => c.json({ deliveries: await listDeliveries(deps, c.get('user')!.team_id, c.req.valid('query')) }, 200));
}
