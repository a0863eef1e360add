import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import type { Config } from '@drydock/core';

const SDK_LEVEL: Record<Config['DRYDOCK_LOG_LEVEL'], LogLevel> = { debug: 'DEBUG', info: 'WARN', warn: 'WARN', error: 'ERROR' };

/** The SDK's INFO is worker lifecycle chatter; Drydock's `info` shows SDK warnings and errors only. */
export function installWorkerRuntime(config: Config): void {
  Runtime.install({ logger: new DefaultLogger(SDK_LEVEL[config.DRYDOCK_LOG_LEVEL]) });
}
