import { describe, expect, test } from 'vitest';
import { attemptsSoFar } from './run-status.ts';

describe('attempts of a run', () => {
  test('a running run has made the attempt its log shows, though its record still says 0', () => {
    expect(attemptsSoFar({ attempts: 0 }, [{ attempt: 1 }, { attempt: 1 }])).toBe(1);
    expect(attemptsSoFar({ attempts: 0 }, [{ attempt: 1 }, { attempt: 2 }])).toBe(2);
  });

  test('a finished run says what its record says', () => {
    expect(attemptsSoFar({ attempts: 3 }, [{ attempt: 1 }, { attempt: 3 }])).toBe(3);
  });

  test('a run that wrote nothing yet has made no attempt it can show', () => {
    expect(attemptsSoFar({ attempts: 0 }, [])).toBe(0);
  });
});
