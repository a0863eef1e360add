import { Form } from 'react-router';
import type { Route } from './+types/settings-notifications';
import { RouteError } from '../components/route-error.tsx';
import { Badge, type BadgeTone } from '../components/ui/badge.tsx';
import { Button } from '../components/ui/button.tsx';
import { EmptyState } from '../components/ui/empty-state.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel } from '../components/ui/panel.tsx';
import { Table, TableBody, TableHead, Td, Th } from '../components/ui/table.tsx';
import { NOTIFICATION_EVENTS } from '@drydock/core/api-schemas';
import { answer, api } from '../lib/api.server.ts';
import { formatDateTime } from '../lib/format.ts';
import { notificationAction, type Outcome } from './notifications.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Notifications · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const client = api(request).notifications;
  const [channels, rules, preferences, deliveries] = await Promise.all([
    answer(client.channels.$get()),
    answer(client.rules.$get()),
    answer(client.preferences.$get()),
    answer(client.deliveries.$get({ query: { limit: '50' } })),
  ]);
  return { ...channels, ...rules, ...preferences, ...deliveries };
}

export async function action({ request }: Route.ActionArgs) {
  return notificationAction(request);
}

const EVENT_LABELS: Record<(typeof NOTIFICATION_EVENTS)[number], string> = {
  run_failed: 'Run failed',
  run_timed_out: 'Run timed out',
  run_succeeded: 'Run succeeded',
  bulk_finished: 'Bulk execution finished',
  bulk_stopped_by_threshold: 'Bulk stopped by its failure threshold',
  schedule_firing_skipped: 'Schedule firing skipped',
  host_unreachable: 'Host unreachable',
  lock_held_too_long: 'Lock held too long',
  approval_requested: 'Approval requested',
};

const STATUS_TONE: Record<string, BadgeTone> = { delivered: 'success', pending: 'info', retrying: 'warning', failed: 'danger' };
const input = 'rounded border border-slate-300 px-2 py-1 text-sm';

export default function NotificationSettings({ loaderData, actionData }: Route.ComponentProps) {
  const { channels, rules, preferences, deliveries } = loaderData;
  const outcome = actionData as Outcome | undefined;
  const channelName = new Map(channels.map((c) => [c.id, c.name]));
  const mode = new Map(preferences.map((p) => [p.event, p.mode]));
  return (
    <div className="space-y-4">
      <PageHeader
        title="Notifications"
        crumbs={[{ label: 'Settings' }, { label: 'Notifications' }]}
        description="Channels your team is told through, the rules that say which events go where, your own preferences for your runs, and every delivery with each attempt's answer."
      />
      {outcome ? (
        <Notice tone={outcome.ok ? 'success' : 'error'} as="div" testId="notification-message">
          {outcome.message}
          {outcome.signingSecret ? (
            <p className="mt-1">
              Signing secret (shown once): <code data-testid="signing-secret">{outcome.signingSecret}</code>
            </p>
          ) : null}
        </Notice>
      ) : null}

      <Panel title="Channels" testId="channels">
        <Form method="post" className="mb-3 flex flex-wrap items-end gap-2" data-testid="channel-form">
          <select name="kind" className={input} aria-label="Kind" defaultValue="slack">
            <option value="email">email</option>
            <option value="slack">Slack</option>
            <option value="teams">Teams</option>
            <option value="webhook">webhook</option>
          </select>
          <input name="name" required placeholder="ops alerts" className={input} aria-label="Channel name" />
          <input name="target" required placeholder="webhook URL, or recipients separated by commas" className={`${input} w-96`} aria-label="URL or recipients" />
          <Button type="submit" name="_intent" value="add-channel" variant="primary" testId="add-channel">
            Add channel
          </Button>
        </Form>
        {channels.length === 0 ? (
          <EmptyState compact testId="no-channels">No channel yet.</EmptyState>
        ) : (
          <Table testId="channel-list">
            <TableHead>
              <Th>Channel</Th>
              <Th>Kind</Th>
              <Th>Sends to</Th>
              <Th>Latest delivery</Th>
              <Th hidden>Actions</Th>
            </TableHead>
            <TableBody>
              {channels.map((c) => (
                <tr key={c.id} data-testid="channel-row" data-failing={c.failing ? 'true' : 'false'}>
                  <Td>{c.name}</Td>
                  <Td>
                    <Badge tone="neutral">{c.kind}</Badge>
                  </Td>
                  <Td mono>{c.target}</Td>
                  <Td>
                    {c.lastDelivery ? (
                      <span title={c.lastDelivery.message ?? undefined}>
                        <Badge tone={c.failing ? 'danger' : (STATUS_TONE[c.lastDelivery.status] ?? 'neutral')} testId="channel-status">
                          {c.failing ? `failing (${c.lastDelivery.status})` : c.lastDelivery.status}
                        </Badge>{' '}
                        <span className="text-xs text-slate-500">{formatDateTime(c.lastDelivery.at)}</span>
                      </span>
                    ) : (
                      <span className="text-slate-400">none yet</span>
                    )}
                  </Td>
                  <Td align="right">
                    <Form method="post" className="inline-flex gap-2">
                      <input type="hidden" name="id" value={c.id} />
                      <Button type="submit" name="_intent" value="test-channel" size="xs">
                        Send test
                      </Button>
                      <Button type="submit" name="_intent" value="delete-channel" size="xs" variant="danger-outline">
                        Remove
                      </Button>
                    </Form>
                  </Td>
                </tr>
              ))}
            </TableBody>
          </Table>
        )}
      </Panel>

      <Panel title="Rules" testId="rules">
        {channels.length > 0 ? (
          <Form method="post" className="mb-3 space-y-2" data-testid="rule-form">
            <div className="flex flex-wrap gap-2">
              <input name="name" required placeholder="staging failures" className={input} aria-label="Rule name" />
              <input name="scripts" placeholder="scripts (any)" className={input} aria-label="Scripts" />
              <input name="environments" placeholder="environments (any)" className={input} aria-label="Environments" />
              <input name="tags" placeholder="tags (any)" className={input} aria-label="Tags" />
            </div>
            <fieldset className="flex flex-wrap gap-3 text-sm">
              <legend className="sr-only">Events</legend>
              {NOTIFICATION_EVENTS.map((e) => (
                <label key={e} className="flex items-center gap-1">
                  <input type="checkbox" name="events" value={e} /> {EVENT_LABELS[e]}
                </label>
              ))}
            </fieldset>
            <fieldset className="flex flex-wrap gap-3 text-sm">
              <legend className="sr-only">Channels</legend>
              {channels.map((c) => (
                <label key={c.id} className="flex items-center gap-1">
                  <input type="checkbox" name="channelIds" value={c.id} /> {c.name}
                </label>
              ))}
            </fieldset>
            <Button type="submit" name="_intent" value="add-rule" variant="primary" testId="add-rule">
              Add rule
            </Button>
          </Form>
        ) : null}
        {rules.length === 0 ? (
          <EmptyState compact testId="no-rules">No rule yet: nothing is sent.</EmptyState>
        ) : (
          <Table testId="rule-list">
            <TableHead>
              <Th>Rule</Th>
              <Th>Events</Th>
              <Th>For</Th>
              <Th>Channels</Th>
              <Th hidden>Remove</Th>
            </TableHead>
            <TableBody>
              {rules.map((r) => (
                <tr key={r.id} data-testid="rule-row">
                  <Td>{r.name}</Td>
                  <Td>{r.events.map((e) => EVENT_LABELS[e]).join(', ')}</Td>
                  <Td>
                    {[r.scripts.length ? `scripts ${r.scripts.join(', ')}` : '', r.environments.length ? `environments ${r.environments.join(', ')}` : '', r.tags.length ? `tags ${r.tags.join(', ')}` : '']
                      .filter(Boolean)
                      .join('; ') || 'everything'}
                  </Td>
                  <Td>{r.channelIds.map((id) => channelName.get(id) ?? id).join(', ')}</Td>
                  <Td align="right">
                    <Form method="post">
                      <input type="hidden" name="id" value={r.id} />
                      <Button type="submit" name="_intent" value="delete-rule" size="xs" variant="danger-outline">
                        Remove
                      </Button>
                    </Form>
                  </Td>
                </tr>
              ))}
            </TableBody>
          </Table>
        )}
      </Panel>

      <Panel title="My preferences, for events of my own runs" testId="preferences">
        <Form method="post" className="flex flex-wrap items-end gap-3 text-sm">
          {NOTIFICATION_EVENTS.map((e) => (
            <label key={e} className="flex flex-col gap-0.5">
              <span className="text-xs text-slate-600">{EVENT_LABELS[e]}</span>
              <select name={`pref-${e}`} defaultValue={mode.get(e) ?? ''} className={input}>
                <option value="">as the rules say</option>
                <option value="mute">mute (leave me out of emails)</option>
                <option value="subscribe">email me</option>
              </select>
            </label>
          ))}
          <Button type="submit" name="_intent" value="save-preferences" testId="save-preferences">
            Save
          </Button>
        </Form>
      </Panel>

      <Panel title="Delivery log" testId="deliveries">
        {deliveries.length === 0 ? (
          <EmptyState compact testId="no-deliveries">Nothing sent yet.</EmptyState>
        ) : (
          <Table testId="delivery-list" density="compact">
            <TableHead>
              <Th>When</Th>
              <Th>Event</Th>
              <Th>Channel</Th>
              <Th>Status</Th>
              <Th>Attempts</Th>
            </TableHead>
            <TableBody>
              {deliveries.map((d) => (
                <tr key={d.id} data-testid="delivery-row" data-status={d.status} data-channel={d.channelName}>
                  <Td nowrap>{formatDateTime(d.createdAt)}</Td>
                  <Td>
                    {d.runId ? <a href={`/runs/${d.runId}`} className="text-blue-700 hover:underline">{d.title}</a> : d.title}
                  </Td>
                  <Td>{d.channelName}</Td>
                  <Td>
                    <Badge tone={STATUS_TONE[d.status] ?? 'neutral'}>{d.status}</Badge>
                  </Td>
                  <Td>
                    <ol className="space-y-0.5 text-xs">
                      {d.attempts.map((a) => (
                        <li key={a.attempt} data-testid="delivery-attempt">
                          #{a.attempt} {a.outcome}
                          {a.status !== undefined ? ` · ${a.status}` : ''} · {a.message}
                          {a.responseExcerpt ? <span className="text-slate-500"> · “{a.responseExcerpt}”</span> : null}
                        </li>
                      ))}
                    </ol>
                  </Td>
                </tr>
              ))}
            </TableBody>
          </Table>
        )}
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
