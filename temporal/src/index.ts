export * from './names.ts';
export * from './search-attributes.ts';
export * from './codec.ts';
export * from './client.ts';
export * from './dev-server.ts';
export * from './worker.ts';
export * from './namespace.ts';
export * from './runtime.ts';
