import { dockerTransport } from '../docker/docker-host.ts';
import { sshTransport } from '../ssh/ssh-host.ts';
import { winrmTransport } from '../winrm/winrm-host.ts';
import type { HostTransport } from './host-transport.ts';

/** Every transport a central worker reaches hosts by, by hosts.transport; a new one is a folder and a line here. */
export const HOST_TRANSPORTS: ReadonlyMap<string, HostTransport> = new Map([sshTransport, winrmTransport, dockerTransport].map((t) => [t.kind, t]));
