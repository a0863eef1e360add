import { expect } from 'vitest';
import type { ScriptLine } from '@drydock/core/job-data';
import type { ParamValues } from '@drydock/core/manifest';
import type { AgentScriptJob } from '@drydock/core/run-contract';

/** Test support shared by the transports' tests: one job shape, one line collector, one way to expect a failure. */

/** A script job as the workflow hands it to a transport, succeeding on exit 0. */
export function transportJob(content: string, params: ParamValues = {}, extra: Partial<AgentScriptJob> = {}): AgentScriptJob {
  return {
    runId: 'run-1',
    scriptId: 'script-1',
    interpreter: 'sh',
    scriptPath: 'scripts/check.sh',
    content,
    commandTemplate: null,
    operation: null,
    params,
    secretNames: [],
    timeoutSeconds: 60,
    successCriteria: { exit_codes: [0], output_contains: [], output_not_contains: [] },
    ...extra,
  };
}

export interface Collecting {
  signal?: AbortSignal;
  onLine?: (line: ScriptLine) => void;
}

/** Runs a transport with a line sink and hands back its result with the lines it sent, by stream. */
export async function collectLines<R extends object>(options: Collecting, start: (signal: AbortSignal, onLine: (line: ScriptLine) => void) => Promise<R>) {
  const lines: ScriptLine[] = [];
  const result = await start(options.signal ?? new AbortController().signal, (line) => {
    lines.push(line);
    options.onLine?.(line);
  });
  const of = (stream: ScriptLine['stream']) => lines.filter((l) => l.stream === stream).map((l) => l.line);
  return { ...result, lines, stdout: of('stdout'), stderr: of('stderr'), system: of('system') };
}

/** The error a run rejected with, checked to be of the transport's class. */
export async function failure<E extends Error>(promise: Promise<unknown>, kind: new (...args: never[]) => E): Promise<E> {
  const err = await promise.then(
    () => new Error('expected the run to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(kind);
  return err as E;
}

export const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');

/** Values a shell would love to interpret; each names a marker file it would create if it ever did. `extra` adds a shell's own specials. */
export function hostile(marker: string, extra = ''): string {
  return `it's "quoted" $(touch ${marker}) \`touch ${marker}\`; touch ${marker} && touch ${marker}\nsecond line\twith  spaces | > ${marker} \${HOME} \\ \\0101 % é 🚀${extra}\n\n`;
}
