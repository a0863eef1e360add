import { ReasonError } from '@drydock/core/errors';

export type DiscoveryRefusal = 'bad_range' | 'too_large' | 'public' | 'forbidden' | 'bad_options';

/** A scan refused before any packet is sent; `message` says what to change. */
export class DiscoveryRefusedError extends ReasonError<DiscoveryRefusal> {}
