import type { ReactNode } from 'react';
import type { RepositoryView } from '@drydock/core/api-schemas';
import { formatSeconds } from '../lib/format.ts';
import { CopyButton } from './copy-button.tsx';
import { Notice } from './ui/notice.tsx';

type Hosted = Exclude<RepositoryView['provider'], 'generic'>;

const STEPS: Record<Hosted, { title: string; steps: (url: ReactNode) => ReactNode[] }> = {
  github: {
    title: 'GitHub',
    steps: (url) => [
      <>In the repository, open Settings → Webhooks → Add webhook.</>,
      <>Payload URL: {url}</>,
      <>
        Content type: <code>application/json</code>
      </>,
      <>Secret: the webhook secret set in these settings.</>,
      <>Which events: Just the push event. Keep Active ticked and add the webhook.</>,
    ],
  },
  gitlab: {
    title: 'GitLab',
    steps: (url) => [
      <>In the project, open Settings → Webhooks → Add new webhook.</>,
      <>URL: {url}</>,
      <>Secret token: the webhook secret set in these settings.</>,
      <>Trigger: Push events (all branches, or just the one Drydock follows). Add the webhook.</>,
    ],
  },
  bitbucket: {
    title: 'Bitbucket',
    steps: (url) => [
      <>In the repository, open Repository settings → Webhooks → Add webhook.</>,
      <>URL: {url}</>,
      <>Secret: the webhook secret set in these settings.</>,
      <>
        Triggers: Repository push (<code>repo:push</code>). Save.
      </>,
    ],
  },
};

/** The webhook URL of a repository and, for its git host, where to paste it so a push syncs at once. */
export function WebhookSetup({ repository }: { repository: RepositoryView }) {
  if (repository.kind === 'directory') {
    return <p className="text-sm text-slate-600">A directory is re-read every {formatSeconds(repository.syncIntervalSeconds)}; webhooks do not apply.</p>;
  }
  const url = <code className="font-mono break-all">{repository.webhookUrl}</code>;
  const provider = repository.provider;
  return (
    <div className="space-y-3 text-sm" data-testid="webhook-setup" data-provider={provider}>
      <div className="flex items-center gap-2">
        <input
          readOnly
          value={repository.webhookUrl}
          aria-label="Webhook URL"
          data-testid="webhook-url"
          onFocus={(e) => e.currentTarget.select()}
          className="min-w-0 flex-1 rounded border border-slate-300 bg-slate-50 px-2 py-1 font-mono text-xs"
        />
        <CopyButton text={repository.webhookUrl} />
      </div>
      {repository.hasWebhookSecret ? null : (
        <Notice tone="warning" testId="webhook-no-secret" className="text-xs">
          No webhook secret is set, so Drydock refuses webhook deliveries for this repository. Set one in the settings and give the git host the
          same value: deliveries are accepted only when they prove they know it.
        </Notice>
      )}
      {provider === 'generic' ? (
        <>
          <p className="text-slate-600">
            Drydock looks for new commits every {formatSeconds(repository.syncIntervalSeconds)}. To sync on every push too, add a webhook at the git host: with{' '}
            <em>Hosted on</em> left as other, a push webhook from GitHub, GitLab or Bitbucket is accepted.
          </p>
          {(Object.keys(STEPS) as Hosted[]).map((p) => (
            <details key={p} className="rounded border border-slate-200 px-3 py-2">
              <summary className="cursor-pointer text-sm font-medium">{STEPS[p].title}</summary>
              <Steps items={STEPS[p].steps(url)} />
            </details>
          ))}
        </>
      ) : (
        <>
          <p className="font-medium">Set up the {STEPS[provider].title} webhook</p>
          <Steps items={STEPS[provider].steps(url)} />
          <p className="text-xs text-slate-500">Until then Drydock still looks for new commits every {formatSeconds(repository.syncIntervalSeconds)}.</p>
        </>
      )}
    </div>
  );
}

function Steps({ items }: { items: ReactNode[] }) {
  return (
    <ol className="mt-1 list-decimal space-y-1 pl-5 text-slate-700">
      {items.map((item, i) => (
        <li key={i}>{item}</li>
      ))}
    </ol>
  );
}
