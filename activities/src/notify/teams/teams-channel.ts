import type { NotificationChannel } from '../channel.ts';
import { type HttpTargetOptions, postNotification } from '../http-post.ts';
import { teamsMessage } from './teams-card.ts';

/** A Microsoft Teams incoming webhook or Workflows "post card" URL, which answers 200 or 202. */
export function createTeamsChannel(webhookUrl: string, http: HttpTargetOptions): NotificationChannel {
  return {
    kind: 'teams',
    send: (notification, attempt) =>
      postNotification(
        {
          channel: 'teams',
          url: webhookUrl,
          body: JSON.stringify(teamsMessage(notification)),
          headers: { 'content-type': 'application/json; charset=utf-8', 'idempotency-key': attempt.idempotencyKey, 'user-agent': 'Drydock-Notify/1' },
          attempt,
        },
        http,
      ),
  };
}
