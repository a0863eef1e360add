import { data } from 'react-router';
import { NOTIFICATION_EVENTS, type NotificationEvent } from '@drydock/core/api-schemas';
import { api, type ApiErrorBody, result } from '../lib/api.server.ts';

// The notification settings page's form handling: one intent per form, each one API call.

export type Outcome = { ok: boolean; message: string; signingSecret?: string };

const list = (text: string) =>
  text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

function refused(error: ApiErrorBody, status: number) {
  const details = Object.entries(error.fields ?? {}).map(([k, v]) => `${k}: ${v.join(', ')}`);
  return data<Outcome>({ ok: false, message: [error.message, ...details].join(' · ') }, { status });
}

export async function notificationAction(request: Request) {
  const form = await request.formData();
  const text = (name: string) => String(form.get(name) ?? '').trim();
  const client = api(request).notifications;
  switch (text('_intent')) {
    case 'add-channel': {
      const kind = text('kind');
      const name = text('name');
      const target = text('target');
      const json =
        kind === 'email'
          ? { kind: 'email' as const, name, to: list(target) }
          : kind === 'webhook'
            ? { kind: 'webhook' as const, name, url: target }
            : { kind: kind === 'teams' ? ('teams' as const) : ('slack' as const), name, webhookUrl: target };
      const res = await result(client.channels.$post({ json }));
      if (!res.ok) return refused(res.error, res.status);
      return { ok: true, message: `Added the channel "${res.body.name}".`, ...(res.body.signingSecret ? { signingSecret: res.body.signingSecret } : {}) };
    }
    case 'delete-channel': {
      const res = await result(client.channels[':id'].$delete({ param: { id: text('id') } }));
      return res.ok ? { ok: true, message: 'Removed the channel.' } : refused(res.error, res.status);
    }
    case 'test-channel': {
      const res = await result(client.channels[':id'].test.$post({ param: { id: text('id') } }));
      if (!res.ok) return refused(res.error, res.status);
      const attempt = res.body.attempts.at(-1);
      return { ok: res.body.status === 'delivered', message: `Test to ${res.body.channelName}: ${res.body.status}${attempt ? ` (${attempt.message})` : ''}.` };
    }
    case 'add-rule': {
      const res = await result(
        client.rules.$post({
          json: {
            name: text('name'),
            events: form.getAll('events').map(String) as NotificationEvent[],
            scripts: list(text('scripts')),
            environments: list(text('environments')),
            tags: list(text('tags')),
            channelIds: form.getAll('channelIds').map(String),
          },
        }),
      );
      return res.ok ? { ok: true, message: `Added the rule "${res.body.name}".` } : refused(res.error, res.status);
    }
    case 'delete-rule': {
      const res = await result(client.rules[':id'].$delete({ param: { id: text('id') } }));
      return res.ok ? { ok: true, message: 'Removed the rule.' } : refused(res.error, res.status);
    }
    case 'save-preferences': {
      const preferences = NOTIFICATION_EVENTS.flatMap((event) => {
        const mode = text(`pref-${event}`);
        return mode === 'mute' || mode === 'subscribe' ? [{ event, mode: mode as 'mute' | 'subscribe' }] : [];
      });
      const res = await result(client.preferences.$put({ json: { preferences } }));
      return res.ok ? { ok: true, message: 'Saved your preferences.' } : refused(res.error, res.status);
    }
    default:
      return data<Outcome>({ ok: false, message: 'Unknown form.' }, { status: 400 });
  }
}
