import { type RouteConfig, index, route } from '@react-router/dev/routes';

export default [
  index('routes/catalog.tsx'),
  route('scripts/:id', 'routes/script.tsx'),
  route('actions', 'routes/actions.tsx'),
  route('actions/new', 'routes/action-new.tsx'),
  route('actions/:id', 'routes/action.tsx'),
  route('actions/:id/edit', 'routes/action-edit.tsx'),
  route('runs', 'routes/run-history.tsx'),
  route('runs/:id', 'routes/run.tsx'),
  route('bulk', 'routes/bulk-list.tsx'),
  route('bulk/new', 'routes/bulk-new.tsx'),
  route('bulk/:id', 'routes/bulk.tsx'),
  route('repositories', 'routes/repositories.tsx'),
  route('repositories/new', 'routes/repository-new.tsx'),
  route('repositories/:id', 'routes/repository.tsx'),
  route('credentials', 'routes/credentials.tsx'),
  route('hosts', 'routes/hosts.tsx'),
  route('hosts/new', 'routes/host-new.tsx'),
  route('hosts/install', 'routes/host-install.tsx'),
  route('hosts/:id', 'routes/host.tsx'),
  route('locks', 'routes/locks.tsx'),
] satisfies RouteConfig;
