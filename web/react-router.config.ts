import type { Config } from '@react-router/dev/config';

export default {
  ssr: true,
  // A dozen routes: shipping the whole manifest with the first document beats a discovery request per navigation.
  routeDiscovery: { mode: 'initial' },
} satisfies Config;
