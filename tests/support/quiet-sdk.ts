import { DefaultLogger, Runtime } from '@temporalio/worker';

// Test output should show test results, not worker lifecycle chatter; SDK warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this worker
}
