import { type RouteConfig, index, route } from '@react-router/dev/routes';

export default [
  index('routes/catalog.tsx'),
  route('scripts/:id', 'routes/script.tsx'),
  route('runs', 'routes/run-history.tsx'),
  route('runs/:id', 'routes/run.tsx'),
] satisfies RouteConfig;
