import { describe, expect, test } from 'vitest';
import { DockerError } from './docker/docker-error.ts';
import { transportFailure } from './host-contact.ts';
import { SshError } from './ssh/ssh-error.ts';
import { WinrmError } from './winrm/winrm-error.ts';

describe('which failures put a host in error', () => {
  test('failing to reach, authenticate to or trust the host does, with its message', () => {
    expect(transportFailure(new SshError('auth', 'authentication as root failed on 10.0.0.1:22'))).toBe('authentication as root failed on 10.0.0.1:22');
    for (const reason of ['unreachable', 'host_key_changed', 'host_key_unknown', 'timeout'] as const) expect(transportFailure(new SshError(reason, reason))).toBe(reason);
    for (const reason of ['unreachable', 'auth', 'cert_changed', 'timeout', 'protocol'] as const) expect(transportFailure(new WinrmError(reason, reason))).toBe(reason);
    expect(transportFailure(new DockerError('engine_unavailable', 'the Docker engine is not reachable at /run/docker.sock'))).toBe('the Docker engine is not reachable at /run/docker.sock');
  });

  test('what the host answered does not: a missing command or image, a bad parameter, a cancellation', () => {
    expect(transportFailure(new SshError('other', 'could not start the script on 10.0.0.1:22: python3 is not installed'))).toBeNull();
    expect(transportFailure(new WinrmError('other', '10.0.0.1:5986 refused to start PowerShell'))).toBeNull();
    expect(transportFailure(new DockerError('image_missing', 'image x was removed'))).toBeNull();
    expect(transportFailure(new DOMException('This operation was aborted', 'AbortError'))).toBeNull();
    expect(transportFailure(new Error('anything else'))).toBeNull();
  });
});
