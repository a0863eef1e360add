import type { ContainerSnapshot, EnvironmentSnapshot, RunArtifactView, RunSnapshot } from '@drydock/core/run-contract';
import type { ReactNode } from 'react';
import { NameValueTable } from './name-value-table.tsx';
import { Panel } from './ui/panel.tsx';
import { Table, TableBody, TableHead, Td, Th } from './ui/table.tsx';

/** `12 B`, `3.4 kB`, `2.0 MB`, as the agent's log lines say them. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function uptime(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  return days > 0 ? `${days} d ${hours} h` : hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`;
}

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="flex gap-3 py-0.5">
      <dt className="w-28 shrink-0 text-xs text-slate-500">{term}</dt>
      <dd className="min-w-0 font-mono text-xs break-all">{children}</dd>
    </div>
  );
}

function ContainerRows({ container }: { container: ContainerSnapshot['container'] }) {
  const distro = container.distribution?.PRETTY_NAME ?? container.distribution?.NAME;
  const { limits, engine } = container;
  const set = [limits.memoryMb !== null ? `${limits.memoryMb} MB memory` : null, limits.cpus !== null ? `${limits.cpus} CPUs` : null, limits.pids !== null ? `${limits.pids} processes` : null].filter(Boolean);
  return (
    <>
      <Row term="Image">
        {container.image} <span className="text-slate-500">({container.imageId.slice(0, 19)})</span>
      </Row>
      <Row term="OS">{distro ?? 'the image has no /etc/os-release'}</Row>
      <Row term="User">{container.user || 'root'}</Row>
      <Row term="Network">{container.network ? "the engine's default network" : 'none (loopback only)'}</Row>
      <Row term="Limits">{set.length > 0 ? set.join(', ') : "the engine's defaults"}{container.readOnly ? ', image read-only' : ''}</Row>
      <Row term="Engine">
        Docker {engine.version ?? '?'} (API {engine.apiVersion ?? '?'}) · {engine.os ?? '?'} {engine.kernel ?? ''} ({engine.arch ?? '?'})
      </Row>
    </>
  );
}

function HostRows({ snapshot }: { snapshot: EnvironmentSnapshot }) {
  const { host, disk, interpreter } = snapshot;
  const distro = host.distribution?.PRETTY_NAME ?? host.distribution?.NAME;
  return (
    <>
        <Row term="Host">{host.hostname}</Row>
        <Row term="OS">
          {distro ? `${distro} · ` : ''}
          {host.os.type} {host.os.release} ({host.os.arch})
        </Row>
        <Row term="Uptime">{uptime(host.uptimeSeconds)}</Row>
        <Row term="Load">{host.loadAverage.map((l) => l.toFixed(2)).join(' ')}</Row>
        <Row term="CPUs">
          {host.cpus.count}
          {host.cpus.model ? ` × ${host.cpus.model}` : ''}
        </Row>
        <Row term="Memory">
          {host.memory.freeMb} MB free of {host.memory.totalMb} MB
        </Row>
        {disk ? (
          <Row term="Disk">
            {disk.freeMb} MB free of {disk.totalMb} MB ({disk.path})
          </Row>
        ) : null}
        {interpreter ? (
          <Row term="Interpreter">
            {interpreter.name}: {interpreter.version ?? 'did not say its version'}
          </Row>
        ) : null}
        <Row term="Agent">
          {snapshot.agent.version} on Node {snapshot.agent.node}
        </Row>
    </>
  );
}

function Snapshot({ snapshot, attempt }: { snapshot: RunSnapshot; attempt: number }) {
  // Snapshots taken before packages and services were recorded have neither.
  const packages = snapshot.packages ?? [];
  const services = snapshot.services ?? [];
  const variables = Object.entries(snapshot.environment);
  return (
    <div data-testid="environment-snapshot" className="mt-3 border-t border-slate-100 pt-3">
      <h3 className="mb-1 text-xs font-semibold text-slate-700">
        Environment after attempt {attempt} <span className="font-normal text-slate-500">({snapshot.capturedAt})</span>
      </h3>
      <dl>
        {'container' in snapshot ? <ContainerRows container={snapshot.container} /> : <HostRows snapshot={snapshot} />}
        {packages.length > 0 ? (
          <Row term="Packages">
            <ul data-testid="snapshot-packages">
              {packages.map((p) => (
                <li key={p.name} data-name={p.name}>
                  {p.name}: {p.version ?? <span className="text-slate-500">{p.error ?? 'no version'}</span>}
                  {p.version && p.source ? <span className="text-slate-500"> ({p.source})</span> : null}
                </li>
              ))}
            </ul>
          </Row>
        ) : null}
        {services.length > 0 ? (
          <Row term="Services">
            <ul data-testid="snapshot-services">
              {services.map((s) => (
                <li key={s.name} data-name={s.name}>
                  {s.name}: {s.state ?? <span className="text-slate-500">{s.error ?? 'no state'}</span>}
                  {s.state && s.manager ? <span className="text-slate-500"> ({s.manager})</span> : null}
                </li>
              ))}
            </ul>
          </Row>
        ) : null}
      </dl>
      <details className="mt-2">
        <summary className="cursor-pointer text-xs text-slate-600">Environment variables ({variables.length}, secrets masked)</summary>
        <div className="mt-1">
          <NameValueTable rows={variables} testId="environment-variables" />
        </div>
      </details>
      <details className="mt-1">
        <summary className="cursor-pointer text-xs text-slate-600">Raw JSON</summary>
        <pre className="mt-1 max-h-96 overflow-auto rounded bg-slate-50 px-2 py-1 font-mono text-xs">{JSON.stringify(snapshot, null, 2)}</pre>
      </details>
    </div>
  );
}

/** What a run captured: every file with a download link, and the latest environment snapshot, readable. */
export function RunArtifacts({
  artifacts,
  snapshot,
  active,
}: {
  artifacts: RunArtifactView[];
  snapshot: { attempt: number; content: RunSnapshot } | null;
  active: boolean;
}) {
  const attempts = new Set(artifacts.map((a) => a.attempt)).size > 1;
  return (
    <Panel title="Artifacts" testId="run-artifacts">
      {artifacts.length === 0 ? (
        <p className="text-sm text-slate-500">{active ? 'What the manifest asks to capture appears here once the script ends.' : 'Nothing was captured.'}</p>
      ) : (
        <Table density="compact" framed={false}>
          <TableHead>
            <Th>Name</Th>
            {attempts ? <Th>Attempt</Th> : null}
            <Th>Kind</Th>
            <Th numeric>Size</Th>
            <Th>SHA-256</Th>
          </TableHead>
          <TableBody>
            {artifacts.map((a) => (
              <tr key={a.id} data-testid="artifact-row" data-name={a.name} data-kind={a.kind}>
                <Td>
                  <a href={a.downloadUrl} download className="font-mono text-xs break-all text-blue-700 hover:underline">
                    {a.name}
                  </a>
                </Td>
                {attempts ? <Td className="text-xs">{a.attempt}</Td> : null}
                <Td className="text-xs">{a.kind === 'environment' ? 'environment snapshot' : 'artifact'}</Td>
                <Td numeric nowrap className="text-xs" title={`${a.size} bytes`}>
                  {formatBytes(a.size)}
                </Td>
                <Td mono title={a.sha256}>
                  {a.sha256.slice(0, 12)}
                </Td>
              </tr>
            ))}
          </TableBody>
        </Table>
      )}
      {snapshot ? <Snapshot snapshot={snapshot.content} attempt={snapshot.attempt} /> : null}
    </Panel>
  );
}
