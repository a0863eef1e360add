export type DockerErrorReason = 'engine_unavailable' | 'image_missing' | 'other';

/** Running a job in a container failed before it could give a result; `message` says what to do. */
export class DockerError extends Error {
  readonly reason: DockerErrorReason;
  constructor(reason: DockerErrorReason, message: string) {
    super(message);
    this.name = 'DockerError';
    this.reason = reason;
  }
}
