import { reactRouter } from '@react-router/dev/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [tailwindcss(), reactRouter()],
  environments: {
    ssr: {
      build: {
        rolldownOptions: {
          // Loaded from source at run time: bundled, core's import.meta.url-based paths (and the agent's
          // service-host.cs, read beside its renderer) would point into build/.
          external: (id) => id === '@drydock/core' || id.startsWith('@drydock/core/') || id.startsWith('@drydock/agent/'),
        },
      },
    },
  },
});
