import type { Client } from '@temporalio/client';
import type { AgentPrincipal, CatalogStore, Config, Db, OutageWatch, Principal, SecretBox, User } from '@drydock/core';
import type { VaultClient } from '@drydock/activities/vault';
import type { LogBus } from './log-bus.ts';

export interface ApiDeps {
  config: Config;
  db: Db;
  temporal: Client;
  catalog: CatalogStore;
  secrets: SecretBox;
  /** Resolves vault: references of runs on agent hosts; absent when no Vault is configured. */
  vault?: VaultClient | undefined;
  logBus: LogBus;
  /** Who a request without credentials acts as in the local mode (DRYDOCK_AUTH_MODE=local). */
  localUser?: User;
  /** Says once in the API's log when the database stops answering, and once when it is back. */
  databaseOutage?: OutageWatch;
}

export type { AgentPrincipal };

export interface AuditNote {
  action: string;
  resource?: string;
  detail?: Record<string, unknown>;
  /** The team the row belongs to when the caller has none yet (an agent registering with a team's token). */
  teamId?: string;
}

export type ApiEnv = {
  Variables: {
    /** Names the request in the response (`x-request-id`) and in every log line about it. */
    requestId: string;
    /** Who is calling, set by the gate (auth.ts); `user` is the same caller as the routes have always read it. */
    principal: Principal | undefined;
    user: User | undefined;
    agent: AgentPrincipal | undefined;
    audit: AuditNote | undefined;
  };
};
