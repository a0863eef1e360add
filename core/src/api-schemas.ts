import { z } from 'zod';
import { RUN_STATUSES } from './db/schema.ts';
import type { Parameter, ParamValues } from './manifest.ts';

// Browser-safe: request schemas shared by the API (zValidator) and the web app.

const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'use lower-case letters, digits and "-"' });

export const StartRunBodySchema = z.strictObject({
  scriptId: Slug,
  hostId: Slug,
  params: z.record(z.string(), z.unknown()).default({}),
});
export type StartRunBody = z.infer<typeof StartRunBodySchema>;

export const RUN_SORTS = ['created_at', 'duration_ms'] as const;

export const RunListQuerySchema = z.strictObject({
  script: z.string().optional(),
  host: z.string().optional(),
  status: z.enum(RUN_STATUSES).optional(),
  initiator: z.string().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  sort: z.enum(RUN_SORTS).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});
export type RunListQuery = z.infer<typeof RunListQuerySchema>;

export const AgentRegisterBodySchema = z.strictObject({
  registrationSecret: z.string().min(1),
  hostName: Slug,
  os: z.string().max(200).optional(),
  agentVersion: z.string().max(50).optional(),
});

export const LogBatchBodySchema = z.strictObject({
  attempt: z.number().int().min(1),
  lines: z
    .array(
      z.strictObject({
        seq: z.number().int().min(0),
        stream: z.enum(['stdout', 'stderr', 'system']),
        ts: z.iso.datetime({ offset: true }),
        line: z.string().max(65_536),
      }),
    )
    .min(1)
    .max(5_000),
});
export type LogBatchBody = z.infer<typeof LogBatchBodySchema>;

export interface ScriptView {
  id: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  version: string;
  interpreter: string;
  timeout: number;
  retries: number;
  parameters: Parameter[];
}

export interface RunView {
  id: string;
  scriptId: string;
  scriptName: string;
  scriptVersion: string;
  hostId: string;
  status: (typeof RUN_STATUSES)[number];
  initiator: { id: string; name: string };
  params: ParamValues;
  exitCode: number | null;
  error: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  workflowId: string;
  temporalUrl: string;
}

export interface LogLineView {
  attempt: number;
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  ts: string;
  line: string;
}
