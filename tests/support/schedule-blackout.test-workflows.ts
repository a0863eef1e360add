import { workflowInfo } from '@temporalio/workflow';
import { activeWindow, type ActiveBlackout, checkBlackoutWindows } from '@drydock/core/blackout';

// The workflow bundle of tests/e2e/schedules-and-blackouts.e2e.test.ts: blackout windows judged inside
// Temporal's workflow sandbox, and the workflow a schedule starts.

/** Checks the definitions as the save-time check does, then which window is in force at `instant`; or why they were refused. */
export async function blackoutCheckWorkflow(windows: unknown[], instant: string): Promise<ActiveBlackout | { refused: string } | null> {
  try {
    return activeWindow(checkBlackoutWindows(windows, instant), instant) ?? null;
  } catch (err) {
    return { refused: (err as Error).message };
  }
}

/** What a schedule's action starts: reports the workflow id Temporal gave it. */
export async function scheduledFiringWorkflow(): Promise<string> {
  return workflowInfo().workflowId;
}
