import type { ScriptView } from '@drydock/core/api-schemas';
import { Badge } from './ui/badge.tsx';

/** Script (from a repository) or action (an editable template). */
export function KindBadge({ kind }: { kind: ScriptView['kind'] }) {
  return (
    <Badge tone={kind === 'action' ? 'violet' : 'sky'} upper testId="kind-badge" data={{ 'data-kind': kind }}>
      {kind}
    </Badge>
  );
}

export function NotRunnableBadge({ reason }: { reason: string | null }) {
  return (
    <Badge tone="neutral" testId="not-runnable-badge" title={reason ?? undefined}>
      not runnable
    </Badge>
  );
}
