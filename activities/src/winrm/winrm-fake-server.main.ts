import { randomBytes } from 'node:crypto';
import { selfSignedCertificate, startFakeWinrm } from './winrm-fake-server.ts';

// The fake WinRM server as a process of its own, for tests that run it inside a network namespace they made
// (`ip netns exec <ns> node winrm-fake-server.main.ts '<spec>'`). Prints `READY {"fingerprint":…}` once every
// listener listens, and stops them all on SIGTERM.

interface Spec {
  dir: string;
  host: string;
  listeners: { port: number; protocol: 'http' | 'https' }[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const certificate = await selfSignedCertificate(spec.dir, `winrm-${spec.host.replace(/[^0-9a-z]/gi, '-')}`);
const servers = await Promise.all(
  spec.listeners.map((l) =>
    startFakeWinrm({ dir: spec.dir, host: spec.host, port: l.port, protocol: l.protocol, certificate, auth: 'basic', username: 'drydock', password: randomBytes(12).toString('hex'), env: {} }),
  ),
);
process.once('SIGTERM', () => {
  void Promise.all(servers.map((s) => s.stop())).then(() => process.exit(0));
});
console.log(`READY ${JSON.stringify({ fingerprint: certificate.fingerprint })}`);
