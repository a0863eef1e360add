// @drydock/core/jobs: the job definition model. Pure and free of Node built-ins, so the job workflow imports it;
// the YAML reader and writer are at @drydock/core/jobs/yaml.
export * from './job-template.ts';
export * from './output-declaration.ts';
export * from './step-outputs.ts';
export * from './job-schema.ts';
export * from './job-graph.ts';
export * from './value-types.ts';
export * from './step-library.ts';
export * from './validate-job.ts';
export * from './execution-plan.ts';
