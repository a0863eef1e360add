import type { NotificationChannel } from '../channel.ts';
import { type HttpTargetOptions, postNotification } from '../http-post.ts';
import { slackMessage } from './slack-message.ts';

/** A Slack incoming webhook (`https://hooks.slack.com/services/…`), which answers 200 `ok`. */
export function createSlackChannel(webhookUrl: string, http: HttpTargetOptions): NotificationChannel {
  return {
    kind: 'slack',
    send: (notification, attempt) =>
      postNotification(
        {
          channel: 'slack',
          url: webhookUrl,
          body: JSON.stringify(slackMessage(notification)),
          headers: { 'content-type': 'application/json; charset=utf-8', 'idempotency-key': attempt.idempotencyKey, 'user-agent': 'Drydock-Notify/1' },
          attempt,
        },
        http,
      ),
  };
}
