import { createCircleciProvider, type CircleciConnection, type CircleciProviderOptions } from './circleci/circleci-provider.ts';
import { createGithubProvider, type GithubConnection, type GithubProviderOptions } from './github/github-provider.ts';
import { createGitlabProvider, type GitlabConnection, type GitlabProviderOptions } from './gitlab/gitlab-provider.ts';
import { createJenkinsProvider, type JenkinsProvider } from './jenkins/jenkins-provider.ts';
import type { JenkinsClientOptions, JenkinsConnection } from './jenkins/jenkins-client.ts';
import type { CicdProvider } from './provider.ts';

export * from './provider.ts';
export { CicdError, CicdRateLimitedError, type CicdErrorReason } from './cicd-error.ts';
export { checkParameters, TRIGGER_ID_PARAMETER } from './parameters.ts';
export { createJenkinsProvider, type JenkinsProvider, type JenkinsConfigPlan } from './jenkins/jenkins-provider.ts';
export type { JenkinsConnection, JenkinsClientOptions } from './jenkins/jenkins-client.ts';
export { pipelineFromScript, type ScriptPipelineInput } from './jenkins/script-pipeline.ts';
export { renderJenkinsfile, parseJenkinsfile, JenkinsfileError, type JenkinsPipeline, type Step, type GroovyValue } from './jenkins/jenkinsfile.ts';
export { renderJobConfig, parseJobConfig, pipelineOfJobConfig, diffJobConfig, type JobConfig } from './jenkins/job-config.ts';
export { createGithubProvider, type GithubConnection, type GithubProviderOptions } from './github/github-provider.ts';
export { TRIGGER_ID_INPUT } from './github/workflow-file.ts';
export { createGitlabProvider, type GitlabConnection, type GitlabProviderOptions } from './gitlab/gitlab-provider.ts';
export { createCircleciProvider, TRIGGER_ID_PIPELINE_PARAMETER, type CircleciConnection, type CircleciProviderOptions } from './circleci/circleci-provider.ts';

/** A provider connection as the feature will keep it per team: the kind and its credentials, opened by the worker. */
export type CicdConnection =
  | ({ kind: 'jenkins' } & JenkinsConnection)
  | ({ kind: 'github' } & GithubConnection)
  | ({ kind: 'gitlab' } & GitlabConnection)
  | ({ kind: 'circleci' } & CircleciConnection);

export type CicdProviderOptions = JenkinsClientOptions & GithubProviderOptions & GitlabProviderOptions & CircleciProviderOptions;

/** The provider for a connection: one interface, whichever CI/CD system is behind it. */
export function createCicdProvider(connection: Extract<CicdConnection, { kind: 'jenkins' }>, options?: CicdProviderOptions): JenkinsProvider;
export function createCicdProvider(connection: CicdConnection, options?: CicdProviderOptions): CicdProvider;
export function createCicdProvider(connection: CicdConnection, options: CicdProviderOptions = {}): CicdProvider {
  switch (connection.kind) {
    case 'jenkins':
      return createJenkinsProvider(connection, options);
    case 'github':
      return createGithubProvider(connection, options);
    case 'gitlab':
      return createGitlabProvider(connection, options);
    case 'circleci':
      return createCircleciProvider(connection, options);
  }
}
