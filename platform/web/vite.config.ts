import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** Where `npm run dev` forwards API and auth calls; the platform listens on PORT (3000) by default. */
const platformUrl = process.env.WORKFORCE_PLATFORM_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: platformUrl, changeOrigin: true },
      // Only the auth API: `/auth/confirm` is a page of this app.
      "/auth/v1": { target: platformUrl, changeOrigin: true },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    // supabase-js and zod make a ~140 kB (gzip) vendor chunk; that is expected, not a regression.
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        // Libraries change less often than the app: a separate chunk stays cached across deploys.
        codeSplitting: { groups: [{ name: "vendor", test: /node_modules/ }] },
      },
    },
  },
});
