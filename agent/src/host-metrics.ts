import { statfs } from 'node:fs/promises';
import { freemem, loadavg, platform, release, totalmem, type, uptime } from 'node:os';
import { dirname } from 'node:path';
import type { AgentHeartbeat } from '@drydock/core/run-contract';
import { AGENT_VERSION } from './identity.ts';

const MB = 1024 * 1024;

/** Size and use of the filesystem `dir` is on (its nearest existing ancestor, if it is not there yet). */
async function diskOf(dir: string): Promise<AgentHeartbeat['disk']> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = await statfs(d);
      return { totalMb: Math.round((s.blocks * s.bsize) / MB), usedMb: Math.round(((s.blocks - s.bfree) * s.bsize) / MB) };
    } catch (err) {
      if (dirname(d) === d) throw err;
    }
  }
}

/**
 * What the agent reports with every heartbeat: how busy and how full its host is, and what it runs. Windows
 * has no load average (Node reports 0, 0, 0 there), so a Windows agent sends none rather than a false idle.
 */
export async function hostMetrics(tempDir: string, runningJobs: number, runsOn: NodeJS.Platform = process.platform): Promise<Omit<AgentHeartbeat, 'tags'>> {
  const [one, five, fifteen] = loadavg() as [number, number, number];
  const total = totalmem();
  return {
    ...(runsOn === 'win32' ? {} : { load: { one, five, fifteen } }),
    // freemem() is what the kernel could hand out now (MemAvailable), so used excludes reclaimable cache.
    memory: { totalMb: Math.round(total / MB), usedMb: Math.round((total - freemem()) / MB) },
    disk: await diskOf(tempDir).catch(() => undefined),
    uptimeSeconds: Math.floor(uptime()),
    os: { type: type(), release: release(), platform: platform() },
    agentVersion: AGENT_VERSION,
    runningJobs,
  };
}
