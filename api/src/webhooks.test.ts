import { ValidationError } from '@drydock/core';
import { describe, expect, it } from 'vitest';
import { deliveryId, pushEvent } from './webhooks.ts';

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe('pushEvent', () => {
  it('reads the branches of each provider’s documented push', () => {
    expect(pushEvent('github', headers({ 'x-github-event': 'push' }), { ref: 'refs/heads/main', commits: [] }).branches).toEqual(['main']);
    expect(pushEvent('gitlab', headers({ 'x-gitlab-event': 'Push Hook' }), { ref: 'refs/tags/v1' }).branches).toEqual([]);
    const cloud = { push: { changes: [{ new: { type: 'branch', name: 'main' } }, { new: null }, { new: { type: 'tag', name: 'v1' } }] } };
    expect(pushEvent('bitbucket', headers({ 'x-event-key': 'repo:push' }), cloud).branches).toEqual(['main']);
    const dataCenter = { changes: [{ ref: { id: 'refs/heads/release', type: 'BRANCH' } }, { ref: { id: 'refs/tags/v2', type: 'TAG' } }] };
    expect(pushEvent('bitbucket', headers({ 'x-event-key': 'repo:refs_changed' }), dataCenter).branches).toEqual(['release']);
  });

  it('ignores events that are not pushes, whatever their body', () => {
    expect(pushEvent('github', headers({ 'x-github-event': 'ping' }), null)).toEqual({ provider: 'github', kind: 'ping', branches: [] });
    expect(pushEvent('bitbucket', headers({ 'x-event-key': 'pullrequest:created' }), 7).branches).toEqual([]);
  });

  it('refuses a push whose body is not the documented shape, naming the field', () => {
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        if (err instanceof ValidationError) return err;
      }
      throw new Error('expected a ValidationError');
    };
    expect(refusal(() => pushEvent('github', headers({ 'x-github-event': 'push' }), { ref: 42 })).fields).toHaveProperty('ref');
    expect(refusal(() => pushEvent('gitlab', headers({ 'x-gitlab-event': 'Push Hook' }), null)).message).toBe('webhook body is not a GitLab push hook as the provider documents it');
    expect(refusal(() => pushEvent('bitbucket', headers({ 'x-event-key': 'repo:push' }), { push: { changes: [{ new: 'main' }] } })).fields).toHaveProperty(['push.changes.0.new']);
    expect(refusal(() => pushEvent('bitbucket', headers({ 'x-event-key': 'repo:refs_changed' }), { changes: {} })).fields).toHaveProperty('changes');
  });
});

describe('deliveryId', () => {
  it('takes each provider’s own delivery header', () => {
    expect(deliveryId('github', headers({ 'x-github-delivery': 'd-1' }))).toBe('d-1');
    expect(deliveryId('gitlab', headers({ 'x-gitlab-event-uuid': 'g-1' }))).toBe('g-1');
    expect(deliveryId('bitbucket', headers({ 'x-request-uuid': 'b-1' }))).toBe('b-1');
    expect(deliveryId('bitbucket', headers({ 'x-request-id': 'dc-1' }))).toBe('dc-1');
    expect(deliveryId('gitlab', headers({ 'x-github-delivery': 'd-1' }))).toBeUndefined();
  });

  it('refuses an id too long to be a provider’s', () => {
    expect(() => deliveryId('github', headers({ 'x-github-delivery': 'x'.repeat(201) }))).toThrow(ValidationError);
  });
});
