import { Link, isRouteErrorResponse } from 'react-router';

interface Explained {
  title: string;
  message: string;
}

function explain(error: unknown): Explained {
  if (isRouteErrorResponse(error)) {
    const detail = typeof error.data === 'string' ? error.data : (error.data as { message?: unknown } | null)?.message;
    const message = typeof detail === 'string' && detail !== '' ? detail : error.statusText;
    if (error.status === 404) {
      const fromApi = typeof error.data === 'object' && error.data !== null && typeof detail === 'string';
      return { title: 'Not found', message: fromApi ? detail : 'There is no page at this address.' };
    }
    if (error.status === 502) return { title: 'The API is not reachable', message };
    if (error.status >= 500) return { title: `Server error (${error.status})`, message: message || 'The server could not complete the request.' };
    return { title: `Request failed (${error.status})`, message };
  }
  return { title: 'Something went wrong', message: 'An unexpected error stopped this page from rendering. Reload to try again.' };
}

/** The human side of an error: what happened and where to go next, never a stack trace. */
export function RouteError({ error }: { error: unknown }) {
  return <ErrorPanel {...explain(error)} />;
}

export function ErrorPanel({ title, message }: Explained) {
  return (
    <div role="alert" className="mx-auto max-w-2xl rounded border border-red-200 bg-red-50 px-5 py-4">
      <h1 className="text-base font-semibold text-red-800">{title}</h1>
      {message ? <p className="mt-1 text-sm text-red-700">{message}</p> : null}
      <p className="mt-3 text-sm">
        <Link to="/" className="text-red-800 underline">
          Back to the catalog
        </Link>
      </p>
    </div>
  );
}
