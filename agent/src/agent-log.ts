export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface AgentLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The agent's own log: lines below `level` are dropped; warnings and errors go to stderr. */
export function createAgentLog(level: LogLevel, write: { out(line: string): void; err(line: string): void } = { out: console.log, err: console.error }): AgentLog {
  const at = (l: LogLevel, sink: (line: string) => void) => (message: string) => {
    if (RANK[l] >= RANK[level]) sink(l === 'info' ? message : `${l}: ${message}`);
  };
  return { debug: at('debug', write.out), info: at('info', write.out), warn: at('warn', write.err), error: at('error', write.err) };
}
