import type { Host } from './db/schema.ts';
import type { Manifest } from './manifest.ts';
import { operationRefusal } from './operations/index.ts';

/** Why this host cannot run the entry, in words for the person choosing hosts; null when it can. */
export function entryHostRefusal(manifest: Manifest, host: Pick<Host, 'id' | 'tags' | 'transport'>, source: 'script' | 'action'): string | null {
  const operation = manifest.operation ? operationRefusal(manifest.operation, host.transport, host.id) : null;
  if (operation) return operation;
  // A container runs on a Docker engine host, and an engine runs nothing but containers.
  if ((manifest.runner === 'docker') !== (host.transport === 'docker')) {
    return manifest.runner === 'docker' ? `${manifest.id} runs in a container; choose a Docker engine host` : `${host.id} is a Docker engine; it runs manifests with runner docker only`;
  }
  // runner agent (the default) runs on any host, the host's transport deciding how; ssh and winrm name the transport.
  if ((manifest.runner === 'ssh' || manifest.runner === 'winrm') && host.transport !== manifest.runner) {
    return `${manifest.id} runs over ${manifest.runner}; ${host.id} is reached ${host.transport === 'agent' ? 'through its agent' : `over ${host.transport}`}`;
  }
  if (host.transport === 'winrm' && manifest.script !== undefined && manifest.interpreter !== 'powershell') {
    return `${host.id} is a Windows host reached over WinRM; it runs PowerShell scripts and command templates, not ${manifest.interpreter}`;
  }
  const lacking = manifest.host_tags.filter((t) => !host.tags.includes(t));
  if (lacking.length > 0) {
    return `host ${host.id} lacks the tags this ${source} needs: ${lacking.join(', ')}`;
  }
  return null;
}

