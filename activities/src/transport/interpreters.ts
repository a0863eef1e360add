import type { Interpreter } from '@drydock/core/manifest';

/** How a POSIX host (over SSH, or in a container) runs each interpreter's script file: the agent's commands. */
export const POSIX_INTERPRETERS: Record<Interpreter, { command: string; args: string[]; extension: '.sh' | '.py' | '.ps1' | '.mjs' }> = {
  bash: { command: 'bash', args: [], extension: '.sh' },
  sh: { command: 'sh', args: [], extension: '.sh' },
  python: { command: 'python3', args: [], extension: '.py' },
  powershell: { command: 'pwsh', args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'], extension: '.ps1' },
  node: { command: 'node', args: [], extension: '.mjs' },
};
