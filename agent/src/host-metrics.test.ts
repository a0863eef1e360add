import { statfsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hostMetrics } from './host-metrics.ts';
import { AGENT_VERSION } from './identity.ts';

describe('hostMetrics', () => {
  test('reports load, memory, the temp directory’s disk, uptime, OS, version and running jobs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-metrics-'));
    try {
      const m = await hostMetrics(dir, 2);
      const fs = statfsSync(dir);
      expect(m.disk?.totalMb).toBe(Math.round((fs.blocks * fs.bsize) / 1024 / 1024));
      expect(m.disk!.usedMb).toBeLessThanOrEqual(m.disk!.totalMb);
      expect(m.memory?.totalMb).toBe(Math.round(totalmem() / 1024 / 1024));
      expect(m.memory!.usedMb).toBeGreaterThan(0);
      expect(m.memory!.usedMb).toBeLessThanOrEqual(m.memory!.totalMb);
      expect(m.load!.one).toBeGreaterThanOrEqual(0);
      expect(m.load!.fifteen).toBeLessThan(cpus().length * 1000);
      expect(m.uptimeSeconds).toBeGreaterThan(0);
      expect(m.os).toEqual({ type: 'Linux', release: expect.any(String), platform: 'linux' });
      expect(m).toMatchObject({ agentVersion: AGENT_VERSION, runningJobs: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('on Windows sends no load average: Node reports 0, 0, 0 there, which would read as an idle host', async () => {
    const m = await hostMetrics(tmpdir(), 1, 'win32');
    expect(m).not.toHaveProperty('load');
    expect(m.memory?.totalMb).toBe(Math.round(totalmem() / 1024 / 1024));
    expect(m).toMatchObject({ agentVersion: AGENT_VERSION, runningJobs: 1 });
  });

  test('measures the filesystem a temp directory will be on before it exists', async () => {
    const m = await hostMetrics(join(tmpdir(), 'drydock-not-created-yet', 'local'), 0);
    const fs = statfsSync(tmpdir());
    expect(m.disk?.totalMb).toBe(Math.round((fs.blocks * fs.bsize) / 1024 / 1024));
  });
});
