// The same line splitting and masking as the agent's runner (core's job-data), so a run reads alike either way.
export { lineSplitter, type LineSplitter, MAX_LINE, NO_SECRETS, type SecretMask, secretMasker } from '@drydock/core/job-data';

export const STDERR_TAIL_LINES = 20;
