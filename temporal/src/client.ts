import { Client, Connection } from '@temporalio/client';
import type { Config } from '@drydock/core';
import { dataConverterFromConfig } from './codec.ts';

export interface TemporalClientHandle {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

export async function connectClient(config: Config): Promise<TemporalClientHandle> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverterFromConfig(config) });
  return { client, connection, close: () => connection.close() };
}
