import { describe, expect, it } from 'vitest';
import { CicdError, checkParameters, createCicdProvider, type CicdJobDescription, type CicdJobRef } from '@drydock/activities/cicd';
import { rateLimitFailure, retryAfterMs } from './cicd-error.ts';

const refs: CicdJobRef[] = [
  { provider: 'jenkins', path: 'team/api' },
  { provider: 'github', owner: 'acme', repo: 'api', workflow: 'deploy.yml', ref: 'main' },
  { provider: 'gitlab', project: 'acme/api', ref: 'main' },
  { provider: 'circleci', projectSlug: 'gh/acme/api', branch: 'main' },
];

describe('one interface for every provider', () => {
  it('opens the provider of a connection, which refuses a job of another provider before any request', async () => {
    const unreachable = 'http://127.0.0.1:9';
    const providers = [
      createCicdProvider({ kind: 'jenkins', url: unreachable, user: 'u', apiToken: 't' }),
      createCicdProvider({ kind: 'github', token: 't', apiUrl: unreachable }),
      createCicdProvider({ kind: 'gitlab', token: 't', url: unreachable }),
      createCicdProvider({ kind: 'circleci', token: 't', url: unreachable }),
    ];
    expect(providers.map((p) => p.kind)).toEqual(['jenkins', 'github', 'gitlab', 'circleci']);
    for (const [i, provider] of providers.entries()) {
      const foreign = refs[(i + 1) % refs.length]!;
      const err = await provider.describeJob(foreign).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CicdError);
      expect((err as CicdError).message).toContain(`a ${foreign.provider} job cannot be run by the`);
    }
  });
});

describe('parameters against a job definition', () => {
  const job: CicdJobDescription = {
    ref: refs[0]!,
    name: 'team/api',
    buildable: true,
    idempotent: true,
    parameters: [
      { name: 'VERSION', type: 'string', required: true },
      { name: 'DRY_RUN', type: 'boolean', default: false },
      { name: 'REPLICAS', type: 'number', default: 2 },
      { name: 'TARGET', type: 'choice', choices: ['staging', 'production'], default: 'staging' },
      { name: 'DRYDOCK_TRIGGER_ID', type: 'string', default: '' },
    ],
  };

  it('gives the values in the types the job declares', () => {
    expect(checkParameters('jenkins', job, { VERSION: 1.2, DRY_RUN: 'true', REPLICAS: '3', TARGET: 'production' })).toEqual({ VERSION: '1.2', DRY_RUN: true, REPLICAS: 3, TARGET: 'production' });
  });

  it('names every value it refuses, and a required one missing', () => {
    const err = (() => {
      try {
        checkParameters('jenkins', job, { DRY_RUN: 'yes', REPLICAS: '', TARGET: 'moon' });
      } catch (e) {
        return e as CicdError;
      }
    })();
    expect(err?.reason).toBe('invalid_parameter');
    expect(err?.parameters).toEqual(['DRY_RUN', 'REPLICAS', 'TARGET', 'VERSION']);
    expect(err?.message).toBe('DRY_RUN must be true or false; REPLICAS must be a number; TARGET must be one of: staging, production; VERSION is required: nothing was triggered');
  });
});

describe('rate limits', () => {
  const at = Date.parse('2030-01-01T00:00:00Z');
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs((h) => (h === 'retry-after' ? '120' : null), at)).toBe(120_000);
    expect(retryAfterMs((h) => (h === 'retry-after' ? 'Tue, 01 Jan 2030 00:00:30 GMT' : null), at)).toBe(30_000);
    expect(retryAfterMs(() => null, at)).toBeUndefined();
  });

  it('waits a minute on a 429 that says nothing, and says so', () => {
    const err = rateLimitFailure('gitlab', 'https://gitlab.example.com', 429, () => null, at)!;
    expect(err.retryAfterMs).toBe(60_000);
    expect(err.message).toContain('no Retry-After given');
    expect(rateLimitFailure('gitlab', 'https://gitlab.example.com', 403, () => null, at)).toBeUndefined();
  });
});
