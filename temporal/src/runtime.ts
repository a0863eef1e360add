import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, type LogLevel, type LogMetadata, type Logger, Runtime } from '@temporalio/worker';
import type { Config } from '@drydock/core';

const SDK_LEVEL: Record<Config['DRYDOCK_LOG_LEVEL'], LogLevel> = { debug: 'DEBUG', info: 'WARN', warn: 'WARN', error: 'ERROR' };

/**
 * The SDK's logger, told what Drydock expects: a script that exits non-zero or a run that ends failed is an
 * outcome the run page already shows, worth one line here, not a stack trace from the agent and another from
 * the worker. An ApplicationFailure with a type is such an outcome; anything else is a defect and keeps its stack.
 */
export class SdkLogger implements Logger {
  private readonly inner: DefaultLogger;

  constructor(level: LogLevel, sink?: ConstructorParameters<typeof DefaultLogger>[1]) {
    this.inner = new DefaultLogger(level, sink);
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    // An agent serves activities only; that it polls no workflow task queue is how it is meant to be.
    if (message.startsWith('No workflows registered') && String(meta?.taskQueue ?? '').startsWith('agent-')) return;
    const error: unknown = meta?.error;
    if (message === 'Activity failed' && error instanceof ApplicationFailure && error.type) {
      this.inner.log(level, `activity ${String(meta?.activityType)} of ${String(meta?.workflowId)} (attempt ${String(meta?.attempt)}) ended ${error.type}: ${firstLine(error.message)}`);
      return;
    }
    // A workflow fails only by throwing a Temporal failure on purpose (a failed run); a bug fails its task instead.
    if (message === 'Workflow failed' && error instanceof Error) {
      this.inner.log(level, `workflow ${String(meta?.workflowId)} failed: ${firstLine(error.message)}`);
      return;
    }
    this.inner.log(level, message, meta);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

/** The SDK's INFO is worker lifecycle chatter; Drydock's `info` shows SDK warnings and errors only. */
export function installWorkerRuntime(config: Pick<Config, 'DRYDOCK_LOG_LEVEL'>): void {
  Runtime.install({ logger: new SdkLogger(SDK_LEVEL[config.DRYDOCK_LOG_LEVEL]) });
}
