import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, type LogEntry, type LogLevel, type LogMetadata, type Logger, Runtime } from '@temporalio/worker';
import { type Config, outageWatch } from '@drydock/core';
import { temporalAnswers } from './dev-server.ts';

const SDK_LEVEL: Record<Config['DRYDOCK_LOG_LEVEL'], LogLevel> = { debug: 'DEBUG', info: 'WARN', warn: 'WARN', error: 'ERROR' };

/** What the SDK says, again and again, while the Temporal frontend does not answer: every retried call, every failed heartbeat. */
const CONNECTION_TROUBLE = [/^gRPC call \S+ retried \d+ times/, /^Error when recording heartbeat/, /^Network error while completing activity/, /^Failed to (poll|complete)/];
/** Said for each attempt that ended while Temporal had given it up; the workflow asks the agent instead (recoverAttempt). */
const EXPECTED_AFTER_OUTAGE = [/^Activity not found on completion/];

function shortReason(entry: LogEntry): string {
  const text = `${entry.message} ${JSON.stringify(entry.meta ?? {})}`;
  if (/tcp connect error|Connection refused|ECONNREFUSED/i.test(text)) return 'connection refused';
  const status = /code: (\w+)/.exec(text)?.[1];
  return status ? `gRPC ${status}` : entry.message;
}

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

/**
 * The SDK's INFO is worker lifecycle chatter; Drydock's `info` shows SDK warnings and errors only. Core's own
 * lines come through the same logger, so an outage of Temporal is two lines (it does not answer; it answers
 * again) instead of a retry line per call, while the workers keep retrying by themselves.
 */
export function installWorkerRuntime(config: Config, options: { temporalAddress?: string } = {}): void {
  const level = SDK_LEVEL[config.DRYDOCK_LOG_LEVEL];
  const address = options.temporalAddress ?? config.temporalAddress;
  const outage = outageWatch({
    what: `Temporal at ${address}`,
    probe: async () => {
      if (!(await temporalAnswers(address))) throw new Error('no answer');
    },
    say: (line) => console.error(line),
  });
  const print = new DefaultLogger(level);
  Runtime.install({
    logger: new SdkLogger(level, (entry) => {
      if (CONNECTION_TROUBLE.some((p) => p.test(entry.message))) return outage.down(shortReason(entry));
      if (EXPECTED_AFTER_OUTAGE.some((p) => p.test(entry.message))) return;
      print.log(entry.level, entry.message, entry.meta);
    }),
    telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } },
  });
}
