import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The desktop shell loads ui/dist (tauri.conf.json `frontendDist`); in `tauri dev` it loads the
// dev server below (`devUrl`).
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'safari16',
    // The app runs offline from local files; keep the build deterministic and inspectable.
    sourcemap: false,
    // The password-strength dictionaries are lazily loaded in their own chunk.
    chunkSizeWarningLimit: 2000,
  },
});
