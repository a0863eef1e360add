import { data, redirect } from 'react-router';
import type { Route } from './+types/team-switch';
import { api, result } from '../lib/api.server.ts';
import { pageAfterSwitch } from '../lib/team-switch.ts';
import { returnPath } from './sign-in.tsx';

// The header's team switcher posts here: the session moves to the other team, and the page it came from loads
// again in that team (every loader runs again after a form submission); a page of one thing goes to its list.

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const teamId = String(form.get('teamId') ?? '').trim();
  const back = returnPath(form.get('returnTo'));
  const switched = await result(api(request).me.team.$post({ json: { teamId } }));
  if (!switched.ok) throw data(switched.error, { status: switched.status });
  return redirect(pageAfterSwitch(back));
}

export function loader() {
  return redirect('/');
}
