import { Hono } from "hono";
import { buildOpenApiDocument, OPERATIONS } from "../openapi-document";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[char] ?? char);
}

// A stylesheet of its own: the Content-Security-Policy (style-src 'self') refuses inline <style>.
const DOCS_CSS =
  "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}";

/** `/api/openapi.json` and a readable, dependency-free docs page at `/api/docs` (styled by `/api/docs.css`). */
export function openApiRoutes() {
  const app = new Hono();
  app.get("/openapi.json", (c) => c.json(buildOpenApiDocument(new URL(c.req.url).origin)));
  app.get("/docs.css", (c) => c.body(DOCS_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=3600" }));
  app.get("/docs", (c) => {
    const rows = OPERATIONS.map(
      (operation) =>
        `<tr><td><code>${operation.method.toUpperCase()}</code></td><td><code>${escapeHtml(operation.path)}</code></td><td>${escapeHtml(operation.summary)}</td><td>${operation.auth ? "bearer" : "none"}</td></tr>`,
    ).join("\n");
    return c.html(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Workforce API</title>
<link rel="stylesheet" href="/api/docs.css">
</head><body><h1>Workforce platform API</h1>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;access token or API key&gt;</code>; choose the organisation with <code>X-Tenant-ID</code>. Errors are <code>{ "error": { "code", "message" } }</code>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th><th>Auth</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`);
  });
  return app;
}
