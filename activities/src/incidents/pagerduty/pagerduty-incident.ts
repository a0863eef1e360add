import { z } from 'zod';

// A PagerDuty incident as Drydock keeps it in sync, read from the REST API or from a V3 webhook (their shapes differ
// a little: `incident_number` and `assignments` there, `number` and `assignees` here), and the status rules both ways.

export const PAGERDUTY_STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
export type PagerdutyStatus = (typeof PAGERDUTY_STATUSES)[number];

export const ReferenceSchema = z.object({
  id: z.string().min(1),
  type: z.string(),
  summary: z.string().nullish(),
  self: z.string().nullish(),
  html_url: z.string().nullish(),
});

export interface PagerdutyIncident {
  id: string;
  number: number;
  title: string;
  status: PagerdutyStatus;
  urgency: 'high' | 'low';
  htmlUrl?: string;
  incidentKey?: string;
  createdAt: string;
  service: { id: string; name?: string };
  /** The priority's name (P1, P2…), when the account uses priorities. */
  priority?: string;
  /** Who it is assigned to, by name. */
  assignees: string[];
}

/** Drydock's incident statuses. */
export type DrydockIncidentStatus = 'open' | 'investigating' | 'mitigated' | 'resolved';

/** PagerDuty's status as Drydock's: acknowledged means someone is on it. */
export function drydockStatusOf(status: PagerdutyStatus): DrydockIncidentStatus {
  return status === 'triggered' ? 'open' : status === 'acknowledged' ? 'investigating' : 'resolved';
}

/**
 * The PagerDuty status to set so that it follows Drydock's, or undefined when it already does. Equal statuses need
 * nothing, so the webhook PagerDuty sends back for Drydock's own change does not bounce: syncing is idempotent.
 */
export function pagerdutyUpdateFor(drydock: DrydockIncidentStatus, pagerduty: PagerdutyStatus): PagerdutyStatus | undefined {
  switch (drydock) {
    case 'open':
      // An open Drydock incident after a resolved one is a reopening; an acknowledged one cannot be un-acknowledged over the API.
      return pagerduty === 'resolved' ? 'triggered' : undefined;
    case 'investigating':
    case 'mitigated':
      return pagerduty === 'acknowledged' ? undefined : 'acknowledged';
    case 'resolved':
      return pagerduty === 'resolved' ? undefined : 'resolved';
  }
}
