import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { Context } from "hono";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

// Unstyled on purpose: the Content-Security-Policy (style-src 'self') refuses inline styles.
const MISSING_BUILD_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Workforce</title></head>
<body>
<h1>Workforce API is running</h1>
<p>The web app has not been built yet. Run <code>npm run build:web</code> in the repository, then reload this page.</p>
<p>The API is at <a href="/api/health"><code>/api/health</code></a>.</p>
</body></html>`;

async function fileAt(root: string, requestPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const candidate = path.resolve(root, "." + path.posix.normalize("/" + decoded));
  if (candidate !== root && !candidate.startsWith(root + path.sep)) return undefined;
  try {
    return (await stat(candidate)).isFile() ? candidate : undefined;
  } catch {
    return undefined;
  }
}

function send(c: Context, file: string, size: number, cache: string): Response {
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
  const body = c.req.method === "HEAD" ? null : (Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>);
  return new Response(body, { headers: { "content-type": type, "content-length": String(size), "cache-control": cache } });
}

/**
 * Serves the built web app from `root`, falling back to index.html for client-side routes.
 * Returns undefined for requests it does not serve (non-GET), so the caller answers 404.
 */
export function createStaticHandler(root: string) {
  const resolvedRoot = path.resolve(root);
  return async (c: Context): Promise<Response | undefined> => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return undefined;
    const file = await fileAt(resolvedRoot, c.req.path);
    if (file) {
      const immutable = c.req.path.startsWith("/assets/");
      return send(c, file, (await stat(file)).size, immutable ? "public, max-age=31536000, immutable" : "no-cache");
    }
    // A missing file (has an extension) is a 404; anything else is a client-side route.
    if (path.posix.extname(c.req.path) !== "") return undefined;
    const index = path.join(resolvedRoot, "index.html");
    try {
      const info = await stat(index);
      return send(c, index, info.size, "no-cache");
    } catch {
      return c.html(MISSING_BUILD_PAGE);
    }
  };
}
