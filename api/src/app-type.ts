// Types only: what a typed client (`hc<AppType>`) needs of the API, without loading it.
export type { AppType } from './app.ts';
