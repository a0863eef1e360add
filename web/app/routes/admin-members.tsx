import { type MemberView, NewMemberBodySchema, NewServiceAccountBodySchema } from '@drydock/core/api-schemas';
import type { ReactNode } from 'react';
import { Form, data } from 'react-router';
import type { Route } from './+types/admin-members';
import { RouteError } from '../components/route-error.tsx';
import { ActionForm, IntentButton } from '../components/ui/button.tsx';
import { Badge } from '../components/ui/badge.tsx';
import { Field, Options } from '../components/ui/field.tsx';
import { useCheckedForm } from '../components/ui/form.ts';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel, Section } from '../components/ui/panel.tsx';
import { DataTable, type Column } from '../components/ui/table.tsx';
import { answer, api, result } from '../lib/api.server.ts';
import { hasFieldErrors, parseErrors, topLevelField, type FieldErrors } from '../lib/form-errors.ts';
import { formatDateTime } from '../lib/format.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Members · Drydock' }];

const ROLES = [
  ['viewer', 'viewer: reads everything'],
  ['operator', 'operator: also runs and cancels'],
  ['maintainer', 'maintainer: also the catalog, hosts, credentials'],
  ['admin', 'admin: also members and tokens of the team'],
] as const;
type Role = (typeof ROLES)[number][0];

export async function loader({ request }: Route.LoaderArgs) {
  // The API answers 403 to anyone but the team's admins; the page's error boundary says so.
  const v1 = api(request);
  const [{ members }, { serviceAccounts }] = await Promise.all([answer(v1.members.$get()), answer(v1['service-accounts'].$get())]);
  return { members, serviceAccounts };
}

const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();

function memberBody(form: FormData) {
  const name = text(form, 'name');
  return { email: text(form, 'email'), role: text(form, 'role'), ...(name ? { name } : {}) };
}

function checkMember(form: FormData): FieldErrors {
  return parseErrors(NewMemberBodySchema.safeParse(memberBody(form)), { field: topLevelField });
}

function accountBody(form: FormData) {
  return { name: text(form, 'name'), role: text(form, 'role') };
}

function checkAccount(form: FormData): FieldErrors {
  return parseErrors(NewServiceAccountBodySchema.safeParse(accountBody(form)), { field: topLevelField });
}

/** What the last action did: a message, and a one-time secret (a link or a token) to hand on, shown this once. */
interface Outcome {
  intent: string;
  ok: boolean;
  message: string;
  /** The user or service account the secret belongs to. */
  subject?: string;
  secret?: { kind: 'link' | 'token'; value: string; expiresAt: string | null };
  fields?: FieldErrors;
}

function failed(intent: string, error: { message: string; fields?: FieldErrors }, status: number) {
  return data<Outcome>({ intent, ok: false, message: error.message, fields: error.fields ?? {} }, { status });
}

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const intent = text(form, '_intent');
  const v1 = api(request);
  const userId = text(form, 'userId');
  const who = text(form, 'email') || userId;
  switch (intent) {
    case 'role': {
      const role = text(form, 'role') as Role;
      const changed = await result(v1.members[':userId'].$patch({ param: { userId }, json: { role } }));
      return changed.ok ? data<Outcome>({ intent, ok: true, message: `${changed.body.email} is now ${changed.body.role}.` }) : failed(intent, changed.error, changed.status);
    }
    case 'disable':
    case 'enable': {
      const changed = await result(v1.members[':userId'].$patch({ param: { userId }, json: { disabled: intent === 'disable' } }));
      if (!changed.ok) return failed(intent, changed.error, changed.status);
      const message = changed.body.disabled ? `${changed.body.email} is disabled: their sessions ended and their tokens stopped working.` : `${changed.body.email} can sign in again.`;
      return data<Outcome>({ intent, ok: true, message });
    }
    case 'reset-link': {
      const link = await result(v1.members[':userId']['reset-link'].$post({ param: { userId } }));
      if (!link.ok) return failed(intent, link.error, link.status);
      return data<Outcome>({ intent, ok: true, message: `A reset link for ${who}: give it to them. It works once; an earlier one no longer works.`, subject: who, secret: { kind: 'link', value: link.body.url, expiresAt: link.body.expiresAt } });
    }
    case 'add': {
      const fields = checkMember(form);
      if (hasFieldErrors(fields)) return data<Outcome>({ intent, ok: false, message: 'Some fields need attention.', fields }, { status: 400 });
      const added = await result(v1.members.$post({ json: NewMemberBodySchema.parse(memberBody(form)) }));
      if (!added.ok) return failed(intent, added.error, added.status);
      const { member, link } = added.body;
      if (!link) return data<Outcome>({ intent, ok: true, message: `${member.email} joined the team as ${member.role}; they sign in with the password they have.` });
      return data<Outcome>({ intent, ok: true, message: `${member.email} joined the team as ${member.role}. Give them this link: it sets their password and works once.`, subject: member.email, secret: { kind: 'link', value: link.url, expiresAt: link.expiresAt } });
    }
    case 'account': {
      const fields = checkAccount(form);
      if (hasFieldErrors(fields)) return data<Outcome>({ intent, ok: false, message: 'Some fields need attention.', fields }, { status: 400 });
      const created = await result(v1['service-accounts'].$post({ json: NewServiceAccountBodySchema.parse(accountBody(form)) }));
      return created.ok ? data<Outcome>({ intent, ok: true, message: `Service account “${created.body.name}” created as ${created.body.role}; give it a token next.` }) : failed(intent, created.error, created.status);
    }
    case 'account-token': {
      const id = text(form, 'accountId');
      const name = text(form, 'accountName');
      const created = await result(v1['service-accounts'][':id'].tokens.$post({ param: { id }, json: { name: `${name} token`, scopes: ['read', 'run', 'manage'] } }));
      if (!created.ok) return failed(intent, created.error, created.status);
      return data<Outcome>({ intent, ok: true, message: `A token for ${name}: copy it now, it is shown this once.`, subject: name, secret: { kind: 'token', value: created.body.token, expiresAt: created.body.expiresAt } });
    }
    default:
      return data<Outcome>({ intent, ok: false, message: `Unknown action “${intent}”: reload the page and try again.` }, { status: 400 });
  }
}

function memberState(m: MemberView): ReactNode {
  if (m.disabled) return <Badge tone="muted">disabled</Badge>;
  if (m.lockedUntil && Date.parse(m.lockedUntil) > Date.now()) return <Badge tone="warning" title={`Until ${formatDateTime(m.lockedUntil)} UTC`}>locked</Badge>;
  if (!m.hasPassword) return <Badge tone="info">no password yet</Badge>;
  return <Badge tone="success">active</Badge>;
}

function MemberActions({ member }: { member: MemberView }) {
  const hidden = { userId: member.userId, email: member.email };
  const match = { userId: member.userId };
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <ActionForm hidden={hidden} className="inline-flex items-center gap-1">
        <select name="role" defaultValue={member.role} key={member.role} aria-label={`Role of ${member.email}`} className="rounded border border-slate-300 bg-white px-1.5 py-0.5 text-xs" data-testid="member-role-select">
          <Options choices={ROLES.map(([value]) => value)} />
        </select>
        <IntentButton intent="role" match={match} variant="secondary" size="xs" busyLabel="Saving…" testId="member-role-save">
          Change role
        </IntentButton>
      </ActionForm>
      <ActionForm hidden={hidden}>
        <IntentButton intent="reset-link" match={match} variant="secondary" size="xs" busyLabel="Issuing…" testId="member-reset-link">
          Reset link
        </IntentButton>
        {member.disabled ? (
          <IntentButton intent="enable" match={match} variant="secondary" size="xs" busyLabel="Enabling…" testId="member-enable">
            Enable
          </IntentButton>
        ) : (
          <IntentButton intent="disable" match={match} variant="danger-outline" size="xs" busyLabel="Disabling…" testId="member-disable">
            Disable
          </IntentButton>
        )}
      </ActionForm>
    </div>
  );
}

const MEMBER_COLUMNS: Column<MemberView>[] = [
  { key: 'name', header: 'Name', cell: (m) => m.name },
  { key: 'email', header: 'Email', mono: true, cell: (m) => m.email },
  { key: 'role', header: 'Role', testId: 'member-role', cell: (m) => m.role },
  { key: 'state', header: 'State', testId: 'member-state', cell: memberState },
  { key: 'actions', header: 'Actions', hidden: true, align: 'right', cell: (m) => <MemberActions member={m} /> },
];

type Account = Route.ComponentProps['loaderData']['serviceAccounts'][number];

const ACCOUNT_COLUMNS: Column<Account>[] = [
  { key: 'name', header: 'Name', cell: (a) => a.name },
  { key: 'role', header: 'Role', cell: (a) => a.role },
  { key: 'tokens', header: 'Active tokens', numeric: true, cell: (a) => a.tokens.filter((t) => !t.revokedAt).length },
  {
    key: 'used',
    header: 'Last used (UTC)',
    mono: true,
    nowrap: true,
    cell: (a) => {
      const last = a.tokens.map((t) => t.lastUsedAt).filter((t): t is string => t !== null).sort().at(-1);
      return last ? formatDateTime(last) : 'never';
    },
  },
  {
    key: 'actions',
    header: 'Actions',
    hidden: true,
    align: 'right',
    cell: (a) => (
      <ActionForm hidden={{ accountId: a.id, accountName: a.name }} className="inline-flex justify-end">
        <IntentButton intent="account-token" match={{ accountId: a.id }} variant="secondary" size="xs" busyLabel="Creating…" testId="account-token">
          New token
        </IntentButton>
      </ActionForm>
    ),
  },
];

/** A link or token for someone else, this once, with how to copy it. */
function SecretNotice({ outcome }: { outcome: Outcome }) {
  const secret = outcome.secret!;
  return (
    <Notice tone="success" as="div" testId="member-message">
      <p>{outcome.message}</p>
      <input
        readOnly
        value={secret.value}
        aria-label={secret.kind === 'link' ? `The link for ${outcome.subject}` : `The token for ${outcome.subject}`}
        onFocus={(event) => event.currentTarget.select()}
        className="mt-2 block w-full rounded border border-emerald-300 bg-white px-2 py-1 font-mono text-sm"
        data-testid="member-secret"
      />
      <p className="mt-1 text-xs">
        Select it and copy it (Ctrl+C or ⌘C); it is not shown again.{secret.expiresAt ? ` It expires ${formatDateTime(secret.expiresAt)} UTC.` : ''}
      </p>
    </Notice>
  );
}

function RoleField({ id, messages }: { id: string; messages?: string[] }) {
  return (
    <Field name="role" id={id} label="Role" required messages={messages}>
      {(props) => (
        <select {...props} defaultValue="viewer">
          <Options choices={ROLES} />
        </select>
      )}
    </Field>
  );
}

function AddMember({ errors: serverErrors }: { errors: FieldErrors }) {
  const { errors, onSubmit, onChange } = useCheckedForm({ check: checkMember, serverErrors, intents: ['add'] });
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="grid gap-3 sm:grid-cols-3" data-testid="member-form">
      <Field name="email" id="member-email" label="Email" required messages={errors.email}>
        {(props) => <input {...props} type="email" placeholder="ada@example.com" />}
      </Field>
      <Field name="name" id="member-name" label="Name" optional description="For a new user; an existing one keeps theirs." messages={errors.name}>
        {(props) => <input {...props} type="text" />}
      </Field>
      <RoleField id="member-role" messages={errors.role} />
      <div className="sm:col-span-3">
        <IntentButton intent="add" busyLabel="Adding…" testId="member-add">
          Add member
        </IntentButton>
      </div>
    </Form>
  );
}

function AddAccount({ errors: serverErrors }: { errors: FieldErrors }) {
  const { errors, onSubmit, onChange } = useCheckedForm({ check: checkAccount, serverErrors, intents: ['account'] });
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="grid gap-3 sm:grid-cols-3" data-testid="account-form">
      <Field name="name" id="account-name" label="Name" required description="What it is for: “ci”, “nightly-report”." messages={errors.name}>
        {(props) => <input {...props} type="text" />}
      </Field>
      <RoleField id="account-role" messages={errors.role} />
      <div className="self-end">
        <IntentButton intent="account" busyLabel="Creating…" testId="account-add">
          Create service account
        </IntentButton>
      </div>
    </Form>
  );
}

export default function MembersPage({ loaderData, actionData }: Route.ComponentProps) {
  const outcome = actionData as Outcome | undefined;
  const formErrors = (intent: string) => (outcome?.intent === intent && !outcome.ok ? (outcome.fields ?? {}) : {});
  return (
    <div className="max-w-6xl space-y-5">
      <PageHeader title="Members" note="The people and service accounts of this team, and their roles: viewer < operator < maintainer < admin. A change takes effect at their next call." />
      {outcome?.secret ? (
        <SecretNotice outcome={outcome} />
      ) : outcome ? (
        <Notice tone={outcome.ok ? 'success' : 'error'} testId="member-message">
          {outcome.message}
        </Notice>
      ) : null}
      <Section title="People">
        <DataTable
          rows={loaderData.members}
          columns={MEMBER_COLUMNS}
          rowKey={(m) => m.userId}
          row={(m) => ({ 'data-testid': 'member-row', 'data-email': m.email })}
          testId="member-list"
          label="Members"
          empty="The team has no members."
        />
      </Section>
      <Panel title="Add a member">
        <AddMember errors={formErrors('add')} />
      </Panel>
      <Section title="Service accounts">
        <DataTable
          rows={loaderData.serviceAccounts}
          columns={ACCOUNT_COLUMNS}
          rowKey={(a) => a.id}
          row={(a) => ({ 'data-testid': 'account-row', 'data-name': a.name })}
          testId="account-list"
          label="Service accounts"
          empty="No service accounts: create one for CI or other automation."
        />
      </Section>
      <Panel title="New service account">
        <AddAccount errors={formErrors('account')} />
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
