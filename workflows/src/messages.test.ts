import { expect, test } from 'vitest';
import * as workflows from './index.ts';
import * as messages from './messages.ts';

// Clients start workflows through the references in messages.ts, which carry the type name the worker registers.

test('every workflow the worker registers has a reference for clients, under the name the worker knows it by', () => {
  const registered = Object.entries(workflows)
    .filter(([, value]) => typeof value === 'function')
    .map(([name]) => name)
    .sort();
  const referenced = Object.entries(messages)
    .filter(([, value]) => typeof value === 'function')
    .map(([, ref]) => (ref as () => unknown).name)
    .sort();
  expect(referenced).toEqual(registered);
});

test('a reference is not workflow code: calling it says how to start the workflow', () => {
  expect(() => messages.scriptRunWorkflowRef({} as never)).toThrow('scriptRunWorkflow is a reference for Temporal clients; start it through a client or startChild');
});

test('activity code starts the delivery workflow by the name the worker registers it under', async () => {
  const { NOTIFICATION_DELIVERY_WORKFLOW } = await import('@drydock/temporal/names');
  expect(messages.notificationDeliveryWorkflowRef.name).toBe(NOTIFICATION_DELIVERY_WORKFLOW);
});

test('worker start-up starts the notification watcher by the name the worker registers it under', async () => {
  const { NOTIFICATION_WATCH_WORKFLOW } = await import('@drydock/temporal/names');
  expect(messages.notificationWatchWorkflowRef.name).toBe(NOTIFICATION_WATCH_WORKFLOW);
});
