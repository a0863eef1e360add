import type { Workflow } from '@temporalio/common';

/**
 * A workflow by its type name, typed as its function, for clients that must not load workflow code:
 * `client.workflow.start(scriptRunWorkflowRef, …)` checks the arguments and the result against the workflow,
 * and the SDK reads the type name from the function's name. Calling it outside Temporal is a mistake.
 */
export function workflowRef<W extends Workflow>(name: string): W {
  const named = {
    [name]: () => {
      throw new Error(`${name} is a reference for Temporal clients; start it through a client or startChild`);
    },
  };
  return named[name] as unknown as W;
}
