// The same line splitting, masking and stderr tail as the agent's runner (core's job-data), so a run reads alike either way.
export { lineSplitter, type LineSplitter, MAX_LINE, NO_SECRETS, type SecretMask, secretMasker, stderrTail } from '@drydock/core/job-data';
