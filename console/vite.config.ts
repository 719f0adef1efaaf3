import { defineConfig } from 'vite';

// The console is a static bundle served by the Hookline server at `/` (src/http/console.ts):
// hashed files under assets/, index.html beside them. JSX is compiled by Vite's own
// transformer (tsconfig's "jsx": "react-jsx"), so no React plugin is needed for a build.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Its own CSP allows no inline script, so the module preload polyfill stays out.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});
