import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * The window runs with Tauri's `freezePrototype` (tauri.conf.json): Object.prototype is frozen, so
 * `obj.constructor = x` on a plain object throws ("Attempted to assign to readonly property").
 * Preact 10, which FullCalendar (the review calendar) renders with, copies vnodes (whose own
 * `constructor` is `undefined`) with its `assign` helper, which does exactly that on every
 * re-render (preactjs/preact#5109). This rewrites that helper in Preact's published builds to
 * define `constructor` instead of assigning it. A build that finds no helper to rewrite fails, so a
 * Preact upgrade that changes it is noticed.
 */
function preactFrozenPrototype(): Plugin {
  const helper = /function (\w+)\((\w+),(\w+)\)\{for\(var (\w+) in \3\)\2\[\4\]=\3\[\4\];return \2\}/g;
  let patched = 0;
  return {
    name: 'preact-frozen-prototype',
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]preact[\\/](compat[\\/])?dist[\\/]/.test(id)) {
        return null;
      }
      const out = code.replace(
        helper,
        (_all, fn: string, to: string, from: string, key: string) =>
          `function ${fn}(${to},${from}){for(var ${key} in ${from})"constructor"===${key}?` +
          `Object.defineProperty(${to},${key},{value:${from}[${key}],writable:!0,enumerable:!0,configurable:!0}):` +
          `${to}[${key}]=${from}[${key}];return ${to}}`,
      );
      if (out === code) {
        return null;
      }
      patched += 1;
      return { code: out, map: null };
    },
    buildEnd() {
      if (this.environment?.mode === 'build' && patched === 0) {
        this.error('preact-frozen-prototype: Preact\'s assign helper was not found; check the calendar under freezePrototype');
      }
    },
  };
}

// The desktop shell loads ui/dist (tauri.conf.json `frontendDist`); in `tauri dev` it loads the
// dev server below (`devUrl`).
export default defineConfig({
  plugins: [svelte(), preactFrozenPrototype()],
  // Served unbundled in `vite dev` too, so the rewrite above applies there as well.
  optimizeDeps: { exclude: ['preact', 'preact/compat', 'preact/hooks', 'preact/jsx-runtime', 'fullcalendar'] },
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
