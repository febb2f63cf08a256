/**
 * The physical floor of one proxy hop (issue 17): a trivial Hono handler on loopback, run by the
 * bench as a child process, that forwards the Anthropic streaming request to the fake upstream
 * with fetch and streams the answer back untouched — what the gateway does minus all its work.
 * Its added time to first token over "direct" is the least one HTTP hop in Node costs on this
 * machine; the gateway and platform figures are read against it. Prints its URL over IPC.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const upstream = process.env.HONO_HOP_UPSTREAM;
if (!upstream) throw new Error("HONO_HOP_UPSTREAM is not set");

const app = new Hono();
app.post("/v1/messages", async (c) => {
  const answer = await fetch(`${upstream}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": c.req.header("x-api-key") ?? "",
      "anthropic-version": c.req.header("anthropic-version") ?? "2023-06-01",
    },
    body: await c.req.text(),
  });
  return new Response(answer.body, { status: answer.status, headers: { "content-type": answer.headers.get("content-type") ?? "text/event-stream" } });
});

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => process.send?.({ type: "ready", url: `http://127.0.0.1:${info.port}` }));
process.on("disconnect", () => server.close(() => process.exit(0)));
process.once("SIGTERM", () => server.close(() => process.exit(0)));
