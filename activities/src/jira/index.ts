export {
  createJiraClient,
  fingerprintLabel,
  jiraLabel,
  jqlString,
  type FiledIssue,
  type JiraAttachment,
  type JiraAttachmentRef,
  type JiraClient,
  type JiraClientOptions,
  type JiraConnection,
  type JiraConnectionReport,
  type JiraFingerprint,
  type JiraIssueDraft,
  type JiraIssueRef,
  type RunLink,
} from './jira-client.ts';
export { adfDescription, issueSummary, wikiDescription, wikiText, type FailureDescription } from './jira-description.ts';
export { JiraError, type JiraErrorReason } from './jira-error.ts';
