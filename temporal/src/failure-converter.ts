import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces go into an encoded payload, which the codec then encrypts like any other:
 * a run's error can quote what a script printed, and Temporal's history must not hold it in clear. Loaded by
 * path (`failureConverterPath`), as workers bundle it into workflow code.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
