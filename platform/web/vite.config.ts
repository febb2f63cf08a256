import path from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv, type Plugin } from "vite";
import { webAppCspMeta } from "../src/http/security-headers.ts";
import { apiBaseUrl } from "./src/api-location.ts";

/** Where `npm run dev` forwards API and auth calls; the platform listens on PORT (3000) by default. */
const platformUrl = process.env.WORKFORCE_PLATFORM_URL ?? "http://127.0.0.1:3000";

/**
 * A build whose API (VITE_API_URL) or auth (VITE_SUPABASE_URL) is on another origin is served by
 * a CDN or nginx, not by the platform, so it carries the platform's content security policy itself
 * as a meta tag, with those origins allowed to connect. A same-origin build gets its policy from
 * the platform's header, as before.
 */
function contentSecurityPolicy(env: Record<string, string>): Plugin {
  const elsewhere = [new URL(apiBaseUrl(env.VITE_API_URL), "http://same.origin").href, env.VITE_SUPABASE_URL?.trim() ?? ""].filter(
    (url) => /^https?:\/\//.test(url) && new URL(url).origin !== "http://same.origin",
  );
  return {
    name: "workforce-content-security-policy",
    apply: "build",
    transformIndexHtml: () =>
      elsewhere.length === 0 ? [] : [{ tag: "meta", attrs: { "http-equiv": "Content-Security-Policy", content: webAppCspMeta(elsewhere) }, injectTo: "head-prepend" }],
  };
}

/** Every `zod` import but the wrapper's own resolves to src/zod-jitless.ts, which configures zod first. */
function zodJitless(): Plugin {
  const wrapper = path.resolve(import.meta.dirname, "src/zod-jitless.ts");
  return {
    name: "workforce-zod-jitless",
    enforce: "pre",
    resolveId: (source, importer) => (source === "zod" && importer !== undefined && path.resolve(importer) !== wrapper ? wrapper : null),
  };
}

export default defineConfig(({ mode }) => {
  // VITE_* from platform/web/.env* (the deployment guide's place for them) and the environment.
  const env = loadEnv(mode, import.meta.dirname, "VITE_");
  return {
    plugins: [zodJitless(), react(), contentSecurityPolicy(env)],
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
      // react-dom, supabase-js and zod make most of the initial chunk; the budget is checked by bundle-size.test.ts.
      chunkSizeWarningLimit: 600,
      // No hand-made vendor chunk: it would pull the lazily loaded libraries (markdown, highlighter)
      // into the first page's download. Rolldown's own splitting keeps them with the chunks that use them.
    },
  };
});
