import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { describeAccess } from "../auth/access-docs";
import { operationRoutes } from "../auth/operation-route";
import { buildOpenApiDocument, OPERATIONS } from "../openapi-document";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[char] ?? char);
}

/** Served as a file: the platform's Content-Security-Policy allows no inline style (decision 013). */
const DOCS_CSS =
  "body{font-family:system-ui,sans-serif;max-width:80rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}";

/** `/api/openapi.json` and a readable, dependency-free docs page at `/api/docs` (styled by `/api/docs.css`). */
export function openApiRoutes() {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);
  route("service.openapi", (c) => c.json(buildOpenApiDocument(new URL(c.req.url).origin)));
  route("service.docs-style", (c) => c.body(DOCS_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=3600" }));
  route("service.docs", (c) => {
    const rows = OPERATIONS.map(
      (operation) =>
        `<tr data-operation="${escapeHtml(operation.id)}"><td><code>${operation.method.toUpperCase()}</code></td><td><code>${escapeHtml(operation.path)}</code><br><small><code>${escapeHtml(operation.id)}</code></small></td><td>${escapeHtml(operation.summary)}</td><td>${escapeHtml(describeAccess(operation))}</td></tr>`,
    ).join("\n");
    return c.html(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Workforce API</title>
<link rel="stylesheet" href="/api/docs.css">
</head><body><h1>Workforce platform API</h1>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (each operation's <code>x-workforce-access</code> says who may call it). Authenticate with <code>Authorization: Bearer &lt;access token or API key&gt;</code>; choose the organisation with <code>X-Tenant-ID</code>. Errors are <code>{ "error": { "code", "message" } }</code>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th><th>Who may call it</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`);
  });
  return app;
}
