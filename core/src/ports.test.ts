import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortFree, freePort, PortInUseError } from './ports.ts';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('assertPortFree', () => {
  it('fails with PortInUseError naming the port and the setting when something listens', async () => {
    const port = await freePort();
    const server = await listen(port);
    try {
      const check = assertPortFree(port, '127.0.0.1', 'the API', 'DRYDOCK_API_PORT');
      await expect(check).rejects.toThrow(PortInUseError);
      await expect(check).rejects.toThrow(`port ${port} for the API is already in use`);
      await expect(check).rejects.toThrow('set DRYDOCK_API_PORT to another port');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('passes when the port is free, and leaves it free', async () => {
    const port = await freePort();
    await expect(assertPortFree(port, '127.0.0.1', 'the API', 'DRYDOCK_API_PORT')).resolves.toBeUndefined();
    const server = await listen(port);
    await new Promise((resolve) => server.close(resolve));
  });
});
