import { redirect } from 'react-router';
import type { Route } from './+types/sign-out';
import { signOutPost } from '../lib/session.server.ts';

/** A form post only: a link or a prefetch must not sign anyone out. `everywhere` ends every session of the user. */
export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const headers = await signOutPost(request, form.get('everywhere') === 'yes');
  return redirect('/sign-in', { headers });
}

export function loader() {
  return redirect('/');
}
