import { z } from 'zod';
import { BlackoutWindowSchema } from '../blackout.ts';
import { orNull } from './nullable.ts';

// The blackout windows resource: /api/v1/blackouts. The windows' rules and arithmetic live in blackout.ts.

const IsoTime = z.iso.datetime({ offset: true });

export const CreateBlackoutBodySchema = BlackoutWindowSchema.meta({
  id: 'CreateBlackoutBody',
  description:
    'Weekly (`from`/`to` as a day and HH:MM in `timeZone`) or once (`start`/`end` instants), for one environment (`scope.environment`). Names are unique per environment; windows of one environment may not overlap.',
  example: { type: 'weekly', name: 'weekend freeze', scope: { environment: 'staging' }, timeZone: 'Europe/Berlin', from: { day: 'fri', time: '18:00' }, to: { day: 'mon', time: '06:00' } },
});

export const BlackoutViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    environment: z.string(),
    window: z.record(z.string(), z.unknown()).meta({ description: 'The definition as given' }),
    createdBy: z.string(),
    createdAt: IsoTime,
    activeNow: orNull(z.object({ start: IsoTime, end: IsoTime })).meta({ description: 'The occurrence in force now, or `null`' }),
  })
  .meta({ id: 'BlackoutView' });
export type BlackoutView = z.infer<typeof BlackoutViewSchema>;

export const BlackoutListSchema = z.object({ blackouts: z.array(BlackoutViewSchema) }).meta({ id: 'BlackoutList' });
