import type { ScriptExit, ScriptLine } from '@drydock/core/job-data';

/**
 * A fixed program a transport runs on a host for a host operation or a snapshot (sh over SSH, PowerShell over
 * WinRM): its inputs go as DRYDOCK_OP_* variables, and it answers with `<tag> key value` lines, the facts that
 * the agent's own code then judges.
 */
export interface HostProgram {
  program: string;
  /** Names are DRYDOCK_OP_ followed by A-Z, 0-9 and _; the tag is added. */
  env: Record<string, string>;
  timeoutSeconds: number;
  /** Output that is not a fact: a command's own lines, or a tool's complaint. */
  onOutput?: (line: ScriptLine) => void;
  /** The fact after which every line is output, never a fact: shell_command's `start`, once the command runs. */
  factsEndAt?: string;
  what: string;
}

/** A program's facts (`<tag> key value` lines, in order) and how it ended. */
export interface HostProgramRun<Exit extends ScriptExit = ScriptExit> {
  facts: [string, string][];
  exit: Exit;
}

/** Sorts a program's lines into its facts (tagged with `tag`) and the rest, which goes to `spec.onOutput`. */
export function factReader(tag: string, spec: Pick<HostProgram, 'onOutput' | 'factsEndAt'>): { facts: [string, string][]; onLine: (line: ScriptLine) => void } {
  const facts: [string, string][] = [];
  const prefix = `${tag} `;
  let factsOver = false;
  return {
    facts,
    onLine: (line) => {
      if (!factsOver && line.stream === 'stdout' && line.line.startsWith(prefix)) {
        const rest = line.line.slice(prefix.length);
        const space = rest.indexOf(' ');
        const fact: [string, string] = space === -1 ? [rest, ''] : [rest.slice(0, space), rest.slice(space + 1)];
        facts.push(fact);
        if (fact[0] === spec.factsEndAt) factsOver = true;
        return;
      }
      spec.onOutput?.(line);
    },
  };
}
