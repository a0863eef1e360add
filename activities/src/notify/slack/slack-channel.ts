import type { NotificationChannel } from '../channel.ts';
import { type HttpTargetOptions, jsonPostChannel } from '../http-post.ts';
import { slackMessage } from './slack-message.ts';

/** A Slack incoming webhook (`https://hooks.slack.com/services/…`), which answers 200 `ok`. */
export function createSlackChannel(webhookUrl: string, http: HttpTargetOptions): NotificationChannel {
  return jsonPostChannel('slack', webhookUrl, http, slackMessage);
}
