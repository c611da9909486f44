import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w @beacon/web` proxies the API (and the live WebSocket) to a Beacon on :8000.
const target = process.env.BEACON_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  // Old hashed files are kept (scripts/prune.mjs removes stale ones after an hour) so that a
  // rebuild never leaves the running server, an open tab or a test without its files.
  build: { outDir: 'dist', emptyOutDir: false, manifest: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': { target, ws: true } } },
});
