export * from './evidence.ts';
export * from './hypothesis.ts';
export * from './rule-engine.ts';
export * from './alertmanager.ts';
