import { Badge } from './ui/badge.tsx';
import { ActionForm, IntentButton } from './ui/button.tsx';
import type { Column } from './ui/table.tsx';

/** What API tokens and agent registration tokens both have: revoked or not, and an end (an API token may have none). */
interface RevocableToken {
  id: string;
  revokedAt: string | null;
  expiresAt: string | null;
}

/** Active, expired or revoked, with the tone its badge shows. */
export function tokenState(t: RevocableToken): { label: string; tone: 'success' | 'muted' | 'warning' } {
  if (t.revokedAt) return { label: 'revoked', tone: 'muted' };
  if (t.expiresAt && Date.parse(t.expiresAt) <= Date.now()) return { label: 'expired', tone: 'warning' };
  return { label: 'active', tone: 'success' };
}

/** A token list's state column: active, expired or revoked. */
/** Active, expired or revoked, with the tone its badge shows. */
export function tokenStateColumn<T extends RevocableToken>(testId: string): Column<T> {
  return { key: 'state', header: 'State', testId, cell: (t) => <TokenState token={t} /> };
}

function TokenState({ token }: { token: RevocableToken }) {
  const { tone, label } = tokenState(token);
  return <Badge tone={tone}>{label}</Badge>;
}

/** A token list's last column: a button that revokes the row's token, gone once it is revoked. */
export function revokeColumn<T extends RevocableToken>(testId: string): Column<T> {
  return {
    key: 'actions',
    header: 'Actions',
    hidden: true,
    align: 'right',
    cell: (t) =>
      t.revokedAt ? null : (
        <ActionForm hidden={{ id: t.id }}>
          <IntentButton intent="revoke" match={{ id: t.id }} variant="danger-outline" size="xs" busyLabel="Revoking…" testId={testId}>
            Revoke
          </IntentButton>
        </ActionForm>
      ),
  };
}
