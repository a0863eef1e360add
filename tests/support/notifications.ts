import { type Notification, type NotificationInput, NotificationSchema } from '@drydock/activities/notify';

/** A run failure as the feature will describe it, with values a hostile script or user could have chosen. */
export function failedRun(overrides: Partial<NotificationInput> = {}): Notification {
  return NotificationSchema.parse({
    eventId: 'evt-0192-run-failed',
    kind: 'run_failed',
    severity: 'critical',
    title: 'nightly-reset failed on db-staging-1 <script>alert(1)</script>',
    summary: 'Exit code 3. Last line: <!channel> see [here](https://evil.example/phish) & **urgent**',
    facts: [
      { label: 'Script', value: 'nightly-reset' },
      { label: 'Host', value: 'db-staging-1' },
      { label: 'Environment', value: 'staging' },
      { label: 'Parameter "note"', value: '<img src=x onerror=alert(1)> & "quoted" \'single\'' },
    ],
    links: [
      { label: 'Open run', url: 'http://127.0.0.1:3000/runs/0192?tab=logs&attempt=2' },
      { label: 'Temporal Web', url: 'http://localhost:8233/namespaces/default/workflows/run%2F0192/abc/history' },
    ],
    occurredAt: '2030-05-03T16:04:05.000Z',
    team: 'platform',
    ...overrides,
  });
}
