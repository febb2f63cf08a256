import { AppError } from "@workforce/protocol";
import { Hono, type Context } from "hono";
import { errorResponse } from "../http-errors";
import { OUTBOX_PATH, OUTBOX_STYLESHEET, outboxListPage, outboxMailPage } from "./outbox-pages";
import { isOutboxId, listOutbox, readOutboxEml, readOutboxEntry } from "./outbox-store";

export interface OutboxRoutesDeps {
  /** WORKFORCE_OUTBOX_DIR, as given to createOutboxMailer. */
  dir: string;
  /** Whether the request comes from this machine and not through a proxy; everyone else gets 404. */
  isLoopback: (c: Context) => boolean;
}

/**
 * Stricter than the platform's own policy: the pages show text other people chose (names,
 * subjects), so they load nothing but the stylesheet, and nothing may frame them. The mails hold
 * sign-in links, so neither the pages nor their links may leak through Referer or a cache.
 */
const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const notFound = (c: Context) => errorResponse(c, new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`));

/**
 * The local outbox as web pages, mounted at /outbox when no SMTP server is configured:
 * `GET /outbox` lists the mails, `GET /outbox/:id` shows one, `GET /outbox/:id.eml` downloads it.
 * Only loopback requests see any of it; to everyone else /outbox does not exist.
 */
export function outboxRoutes(deps: OutboxRoutesDeps) {
  const app = new Hono();

  app.use(async (c, next) => {
    if (!deps.isLoopback(c)) return notFound(c);
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
  });

  app.get("/", async (c) => {
    const { entries, total } = await listOutbox(deps.dir);
    return c.html(outboxListPage(deps.dir, entries, total));
  });

  app.get("/style.css", (c) => c.body(OUTBOX_STYLESHEET, 200, { "Content-Type": "text/css; charset=utf-8" }));

  app.get("/:name", async (c) => {
    const name = c.req.param("name");
    const download = name.endsWith(".eml");
    const id = download ? name.slice(0, -".eml".length) : name;
    // Checked against the fixed pattern before any path is built from it.
    if (!isOutboxId(id)) return notFound(c);
    if (download) {
      const eml = await readOutboxEml(deps.dir, id);
      if (!eml) return notFound(c);
      return c.body(new Uint8Array(eml), 200, {
        "Content-Type": "message/rfc822",
        "Content-Disposition": `attachment; filename="${id}.eml"`,
      });
    }
    const entry = await readOutboxEntry(deps.dir, id);
    if (!entry) return notFound(c);
    return c.html(outboxMailPage(entry));
  });

  app.all("*", (c) => (c.req.method === "GET" && c.req.path === `${OUTBOX_PATH}/` ? c.redirect(OUTBOX_PATH) : notFound(c)));
  return app;
}
