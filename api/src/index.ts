export * from './app.ts';
export * from './server.ts';
export * from './openapi.ts';
export * from './auth.ts';
