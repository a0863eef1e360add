import { CatalogStore, newId, openDatabase, secretBoxFromConfig, type User } from '@drydock/core';
import { createApp, createLogBus } from '@drydock/api';
import { connectClient } from '@drydock/temporal';
import type { TestStack } from './stack.ts';

export interface UserApi {
  user: User;
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Another person of the stack's team, calling the real API code as that person. Local mode signs every request
 * in as the local admin, so until sign-in exists this serves the same routes in-process with this user signed in,
 * on the stack's own database and Temporal namespace.
 */
export async function asAnotherUser(stack: TestStack, role: 'operator' | 'viewer' | 'admin', email = `${role}-${newId().slice(-8)}@drydock.test`): Promise<UserApi> {
  const database = openDatabase(stack.databaseUrl, { max: 3 });
  const user = await database.db
    .insertInto('users')
    .values({ id: newId(), team_id: stack.config.DRYDOCK_TEAM, email, name: email, role })
    .returningAll()
    .executeTakeFirstOrThrow();
  const temporal = await connectClient(stack.config);
  const logBus = await createLogBus(database.sql, stack.databaseUrl);
  const app = createApp({
    config: stack.config,
    db: database.db,
    temporal: temporal.client,
    catalog: new CatalogStore(database.db),
    secrets: secretBoxFromConfig(stack.config),
    logBus,
    localUser: user,
  });
  const origin = new URL(stack.config.apiUrl).origin;
  return {
    user,
    api: async (path, init = {}) => {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return app.request(`${origin}${path}`, { ...rest, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
    },
    async close() {
      await logBus.close();
      await temporal.close();
      await database.close();
    },
  };
}
