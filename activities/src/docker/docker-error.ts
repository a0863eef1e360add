import { HostTransportError } from '../transport/transport-error.ts';

export type DockerErrorReason = 'engine_unavailable' | 'image_missing' | 'other';

/** Running a job in a container failed before it could give a result; `message` says what to do. */
export class DockerError extends HostTransportError<DockerErrorReason> {
  override name = 'DockerError';
  get unreachable(): boolean {
    return this.reason === 'engine_unavailable';
  }
}
