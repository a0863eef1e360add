import type { ServiceHealthOperation } from '@drydock/core/operations';
import type { OperationContext } from './run-operation.ts';

// What the SSH and WinRM operation executors share: programs on the host that report tagged facts.

/** The facts a look-only program reported, in order. */
export interface FactRun {
  facts: [string, string][];
}

/** The first value the program reported under `key`. */
export function fact(run: FactRun, key: string): string | undefined {
  return run.facts.find(([k]) => k === key)?.[1];
}

/** What a program that only reports facts says on stderr is a problem it met: the log keeps it. */
export function complaints(context: OperationContext): (line: { stream: string; line: string }) => void {
  return (line) => {
    if (line.stream === 'stderr') context.log.line(line.line);
  };
}

/** The inputs of the HTTP check program, as data: both transports' programs read the same variables. */
export function httpCheckEnv(http: NonNullable<ServiceHealthOperation['http']>, timeoutSeconds: number): Record<string, string> {
  return {
    DRYDOCK_OP_URL: http.url,
    DRYDOCK_OP_METHOD: http.method ?? 'GET',
    DRYDOCK_OP_TIMEOUT: String(timeoutSeconds),
    DRYDOCK_OP_BODY: http.expect_body_contains === undefined ? '' : '1',
  };
}
