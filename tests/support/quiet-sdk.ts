import { Runtime } from '@temporalio/worker';
import { SdkLogger } from '@drydock/temporal/runtime';

// Test output should show test results, not worker lifecycle chatter; SDK warnings and errors still show.
try {
  Runtime.install({ logger: new SdkLogger('WARN') });
} catch {
  // already installed in this worker
}
