import { createServer } from 'node:net';

export class PortInUseError extends Error {}

/** Fails with a message that names the setting to change, instead of a bare EADDRINUSE later. */
export async function assertPortFree(port: number, host: string, what: string, setting: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new PortInUseError(`port ${port} for ${what} is already in use: stop what uses it, or set ${setting} to another port`)
          : err,
      );
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
