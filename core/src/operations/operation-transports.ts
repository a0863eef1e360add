import type { Operation } from './operation-schema.ts';

/**
 * Why a host operation cannot run on a host reached this way, or null when it can. The API refuses such a run
 * before it starts, and the run's first activity again, so a host changed in between is caught too.
 */
export function operationRefusal(op: Operation, transport: string, hostId: string): string | null {
  switch (transport) {
    case 'agent':
      return null;
    case 'ssh':
      if (op.type === 'service_health' && op.windows_service) {
        return `windows_service checks run on Windows hosts, over WinRM or through an agent; ${hostId} is reached over SSH`;
      }
      return null;
    case 'winrm':
      if (op.type === 'database_query') {
        return `database_query does not run over WinRM (a WinRM shell cannot carry a database connection); run it on ${hostId} through an agent, or over SSH from a host that reaches the database`;
      }
      if (op.type === 'service_health' && op.systemd) {
        return `systemd checks run on Linux hosts, over SSH or through an agent; ${hostId} is a Windows host reached over WinRM`;
      }
      return null;
    default:
      return `host operations run on agent, SSH and WinRM hosts; ${hostId} is reached over ${transport}`;
  }
}
