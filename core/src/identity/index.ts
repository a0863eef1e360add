export * from './principal.ts';
export * from './password.ts';
