/** Pages that show the same thing in every team: the switch comes back to them as they were. */
const SAME_IN_EVERY_TEAM = new Set(['/settings/tokens', '/admin/members', '/admin/teams']);

/**
 * Where the page goes after a team switch. A list page (`/runs?status=failed`) loads again in the new team; a page
 * of one thing (`/runs/<id>`) goes to its list instead, since the thing belongs to the old team and would be a 404.
 */
export function pageAfterSwitch(path: string): string {
  const url = new URL(path, 'http://drydock.invalid');
  const segments = url.pathname.split('/').filter(Boolean);
  if (segments.length <= 1 || SAME_IN_EVERY_TEAM.has(url.pathname)) return url.pathname + url.search;
  // Scripts are listed in the catalog, at `/`.
  return segments[0] === 'scripts' ? '/' : `/${segments[0]}`;
}
