import { z } from 'zod';
import type { AgentHeartbeat } from '../run-contract.ts';
import { HostId } from './ids.ts';

// Agents: registration and what admins do to their tokens (/api/v1/agents), and what an agent calls with its token (/api/v1/agent).

export const AgentRegisterBodySchema = z
  .strictObject({
    registrationSecret: z.string().min(1).meta({ description: "The API's `DRYDOCK_AGENT_REGISTRATION_SECRET`" }),
    hostName: HostId.meta({ description: 'Becomes the host id; not `new` or `install`' }),
    tags: z.array(z.string().min(1).max(64)).max(50).optional().meta({ description: "Replaces the host's tags (`[]` when none are sent)" }),
    os: z.string().max(200).optional(),
    agentVersion: z.string().max(50).optional(),
  })
  .meta({ id: 'AgentRegisterBody' });

export const LogBatchBodySchema = z
  .strictObject({
    attempt: z.number().int().min(1),
    lines: z
      .array(
        z.strictObject({
          seq: z.number().int().min(0).meta({ description: 'Unique within the run and attempt; a line already stored is ignored' }),
          stream: z.enum(['stdout', 'stderr', 'system']),
          ts: z.iso.datetime({ offset: true }),
          line: z.string().max(65_536),
        }),
      )
      .min(1)
      .max(5_000),
  })
  .meta({ id: 'LogBatchBody' });
export type LogBatchBody = z.infer<typeof LogBatchBodySchema>;

const MAX_INT = 2_147_483_647;
const megabytes = z.number().int().min(0).max(MAX_INT);

export const HeartbeatBodySchema = z
  .strictObject({
    tags: z.array(z.string().min(1).max(64)).max(50).optional().meta({ description: "Replaces the host's tags" }),
    load: z
      .strictObject({ one: z.number().min(0), five: z.number().min(0), fifteen: z.number().min(0) })
      .optional()
      .meta({ description: 'Load average over 1, 5 and 15 minutes' }),
    memory: z.strictObject({ totalMb: megabytes, usedMb: megabytes }).optional(),
    disk: z.strictObject({ totalMb: megabytes, usedMb: megabytes }).optional().meta({ description: "The filesystem of the agent's temp directory, where scripts run" }),
    uptimeSeconds: z.number().int().min(0).max(MAX_INT).optional(),
    os: z
      .strictObject({ type: z.string().min(1).max(64), release: z.string().min(1).max(128), platform: z.string().min(1).max(32) })
      .optional()
      .meta({ description: 'Stored as `<type> <release>`, with ` (<platform>)` when the platform is not the type in lower case' }),
    agentVersion: z.string().min(1).max(64).optional(),
    runningJobs: z.number().int().min(0).max(MAX_INT).optional(),
  })
  .meta({ id: 'HeartbeatBody', description: 'Every field is optional (`{}` is a heartbeat); each one sent replaces what the host row holds.' }) satisfies z.ZodType<AgentHeartbeat>;

export const AgentPrincipalSchema = z
  .object({ agentId: z.uuid(), hostId: z.string(), teamId: z.string() })
  .meta({ id: 'AgentPrincipal', description: 'The agent a token belongs to.' });
export type AgentPrincipal = z.infer<typeof AgentPrincipalSchema>;

export const AgentTokenSchema = z
  .object({
    hostId: z.string(),
    agentId: z.uuid(),
    token: z.string().meta({ description: 'Shown this once; the API keeps only its SHA-256' }),
  })
  .meta({ id: 'AgentToken', description: 'A new agent token.' });

export const AgentRotationSchema = AgentTokenSchema.extend({
  revokedTokens: z.number().int().meta({ description: 'Tokens of the host that were still active' }),
}).meta({ id: 'AgentRotation' });

export const RunSecretsSchema = z
  .object({
    secrets: z.record(z.string(), z.string()).meta({ description: "The run's secret parameters by name, in clear: held in the agent's memory for the attempt, never stored" }),
  })
  .meta({ id: 'RunSecrets', description: "A run's secret parameters, for the agent that executes it." });

export const AgentRevocationSchema = z.object({ hostId: z.string(), revokedTokens: z.number().int() }).meta({ id: 'AgentRevocation' });

export const AgentInstallViewSchema = z
  .object({
    settings: z.record(z.string(), z.string()).meta({ description: "The agent's environment, secrets included: the registration secret and the codec key" }),
    envFile: z.string().meta({ description: 'The same settings as an environment file' }),
    command: z.string(),
  })
  .meta({ id: 'AgentInstallView', description: 'What an admin needs to install an agent on another host.' });
export type AgentInstallView = z.infer<typeof AgentInstallViewSchema>;
