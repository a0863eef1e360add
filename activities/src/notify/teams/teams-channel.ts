import type { NotificationChannel } from '../channel.ts';
import { type HttpTargetOptions, jsonPostChannel } from '../http-post.ts';
import { teamsMessage } from './teams-card.ts';

/** A Microsoft Teams incoming webhook or Workflows "post card" URL, which answers 200 or 202. */
export function createTeamsChannel(webhookUrl: string, http: HttpTargetOptions): NotificationChannel {
  return jsonPostChannel('teams', webhookUrl, http, teamsMessage);
}
