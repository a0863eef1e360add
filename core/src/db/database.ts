import { Kysely } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import { PostgresJSDialect } from 'kysely-postgres-js';
import postgres from 'postgres';
import * as foundation from './migrations/001-foundation.ts';
import * as catalog from './migrations/002-catalog.ts';
import * as agentlessHosts from './migrations/003-agentless-hosts.ts';
import * as agentHardening from './migrations/004-agent-hardening.ts';
import * as runResults from './migrations/005-run-results.ts';
import * as runArtifacts from './migrations/006-run-artifacts.ts';
import * as winrmHosts from './migrations/007-winrm-hosts.ts';
import * as dockerHosts from './migrations/008-docker-hosts.ts';
import * as hostLocks from './migrations/009-host-locks.ts';
import * as bulkExecutions from './migrations/010-bulk-executions.ts';
import * as hostSlots from './migrations/011-host-slots.ts';
import * as hostStatus from './migrations/012-host-status.ts';
import * as webhookDeliveries from './migrations/013-webhook-deliveries.ts';
import * as identity from './migrations/016-identity.ts';
import * as auditChain from './migrations/018-audit-chain.ts';
import * as oidcSignIn from './migrations/019-oidc-sign-in.ts';
import * as environments from './migrations/020-environments.ts';
import * as approvals from './migrations/021-approvals.ts';
import * as schedulesAndBlackouts from './migrations/022-schedules-and-blackouts.ts';
import * as runSecrets from './migrations/024-run-secrets.ts';
import * as scheduleTargets from './migrations/026-schedule-targets.ts';
import * as notifications from './migrations/027-notifications.ts';
import * as teamsAndAgentRegistration from './migrations/028-teams-and-agent-registration.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  /** The raw postgres.js client, for LISTEN/NOTIFY. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function openDatabase(url: string, options: { max?: number } = {}): DatabaseHandle {
  const sql = postgres(url, { max: options.max ?? 10, onnotice: () => {}, connection: { application_name: 'drydock' } });
  const db = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: sql }) });
  return { db, sql, close: () => db.destroy() };
}

const migrations: Record<string, Migration> = {
  '001-foundation': foundation,
  '002-catalog': catalog,
  '003-agentless-hosts': agentlessHosts,
  '004-agent-hardening': agentHardening,
  '005-run-results': runResults,
  '006-run-artifacts': runArtifacts,
  '007-winrm-hosts': winrmHosts,
  '008-docker-hosts': dockerHosts,
  '009-host-locks': hostLocks,
  '010-bulk-executions': bulkExecutions,
  '011-host-slots': hostSlots,
  '012-host-status': hostStatus,
  '013-webhook-deliveries': webhookDeliveries,
  '016-identity': identity,
  '018-audit-chain': auditChain,
  '019-oidc-sign-in': oidcSignIn,
  '020-environments': environments,
  '021-approvals': approvals,
  '022-schedules-and-blackouts': schedulesAndBlackouts,
  '024-run-secrets': runSecrets,
  '026-schedule-targets': scheduleTargets,
  '027-notifications': notifications,
  '028-teams-and-agent-registration': teamsAndAgentRegistration,
};

/** Brings the schema to the latest version; safe to call from every process at start-up (Kysely takes a lock). */
export async function migrateToLatest(db: Db): Promise<void> {
  // Numbers are reserved per piece of work, so a database may have run a later number before an earlier one lands.
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
