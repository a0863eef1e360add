import { data } from 'react-router';
import type { Route } from './+types/not-found';
import { ErrorPanel, RouteError } from '../components/route-error.tsx';

// Every address no other route claims. Matching it as a route, rather than matching nothing, lets the root loader run
// (the header knows who is signed in), and a thrown 404 response is an expected outcome the server does not log.

export const meta: Route.MetaFunction = () => [{ title: 'Not found · Drydock' }];

export function loader(): never {
  throw data(null, { status: 404, statusText: 'Not Found' });
}

export function action(): never {
  throw data(null, { status: 404, statusText: 'Not Found' });
}

export default function NotFound() {
  return <ErrorPanel title="Not found" message="There is no page at this address." />;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
