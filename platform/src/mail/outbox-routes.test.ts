import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { errorResponse, toAppError } from "../http-errors";
import { createOutboxMailer } from "./outbox-mailer";
import { outboxRoutes } from "./outbox-routes";
import { renderMail } from "./render-mail";

const LINK = "https://workforce.example.com/invite?token=tok-123&next=%2Fteam";

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "workforce-outbox-routes-"));
  dir = path.join(root, "outbox");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The platform's shape: the outbox mounted at /outbox, errors answered by the one error handler. */
function platform() {
  const app = new Hono();
  app.onError((error, c) => errorResponse(c, toAppError(error, () => undefined)));
  // The lead's predicate looks at the socket; here a header stands in for "came from this machine".
  app.route("/outbox", outboxRoutes({ dir, isLoopback: (c) => c.req.header("x-test-remote") === undefined }));
  return app;
}

async function sendTwo() {
  const first = createOutboxMailer({ dir, from: "Workforce <no-reply@localhost>", now: () => new Date("2026-11-20T08:00:00.000Z") });
  await first.send(renderMail("password-changed", { to: "ada@example.com" }));
  const second = createOutboxMailer({ dir, from: "Workforce <no-reply@localhost>", now: () => new Date("2026-11-20T09:30:15.000Z") });
  await second.send(
    renderMail("invitation", {
      to: "grace@example.com",
      link: LINK,
      organisation: "<script>alert('org')</script>",
      inviterEmail: "ada@example.com",
      role: "member",
    }),
  );
  const ids = (await readdir(dir)).filter((name) => name.endsWith(".eml")).map((name) => name.slice(0, -4)).sort();
  return { older: ids[0]!, newer: ids[1]! };
}

async function expectNotFound(response: Response) {
  expect(response.status).toBe(404);
  expect(await response.json()).toEqual({ error: { code: "not_found", message: expect.any(String) } });
}

describe("outboxRoutes", () => {
  it("lists the kept mails newest first, with recipient, time and a link to each", async () => {
    const { older, newer } = await sendTwo();
    const response = await platform().request("/outbox");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();

    expect(page).toContain(`<a href="/outbox/${newer}">ada@example.com invited you to join &lt;script&gt;alert(&#39;org&#39;)&lt;/script&gt; on Workforce</a>`);
    expect(page).toContain(`<a href="/outbox/${older}">Your Workforce password was changed</a>`);
    expect(page.indexOf(newer)).toBeLessThan(page.indexOf(older));
    expect(page).toContain("grace@example.com");
    expect(page).toContain("2026-11-20 09:30:15 UTC");
    expect(page).not.toContain("<script");
  });

  it("shows one mail from its text version with the link clickable and everything else escaped", async () => {
    const { newer } = await sendTwo();
    const response = await platform().request(`/outbox/${newer}`);
    expect(response.status).toBe(200);
    const page = await response.text();

    expect(page).toContain(`<a href="${LINK.replaceAll("&", "&amp;")}" rel="noreferrer">${LINK.replaceAll("&", "&amp;")}</a>`);
    expect(page).toContain("ada@example.com invited you to join &lt;script&gt;alert(&#39;org&#39;)&lt;/script&gt; on Workforce as a member.");
    expect(page).not.toContain("<script");
    // The stored HTML version is not what the page shows: only its text sibling is.
    expect(page).not.toContain("paste this address into your browser");
    expect(page).toContain(`href="/outbox/${newer}.eml"`);
  });

  it("works under a strict CSP: no inline styles or scripts, one stylesheet from /outbox/style.css", async () => {
    const { newer } = await sendTwo();
    const app = platform();
    for (const url of ["/outbox", `/outbox/${newer}`]) {
      const response = await app.request(url);
      expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      expect(response.headers.get("cache-control")).toBe("no-store");
      const page = await response.text();
      expect(page).not.toMatch(/<style|style=|<script|\son\w+=/i);
      expect(page).toContain('<link rel="stylesheet" href="/outbox/style.css">');
    }
    const css = await app.request("/outbox/style.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await css.text()).toContain("pre {");
  });

  it("downloads the raw .eml exactly as stored", async () => {
    const { older } = await sendTwo();
    const response = await platform().request(`/outbox/${older}.eml`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("message/rfc822");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${older}.eml"`);
    expect(Buffer.from(await response.arrayBuffer()).equals(await readFile(path.join(dir, `${older}.eml`)))).toBe(true);
  });

  it("says there is nothing yet before the first mail, also at /outbox/", async () => {
    const response = await platform().request("/outbox");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("No emails yet.");
    const slash = await platform().request("/outbox/");
    expect(slash.status).toBe(302);
    expect(slash.headers.get("location")).toBe("/outbox");
  });

  it("does not exist for requests from anywhere but this machine", async () => {
    const { newer } = await sendTwo();
    const app = platform();
    for (const url of ["/outbox", "/outbox/", `/outbox/${newer}`, `/outbox/${newer}.eml`, "/outbox/style.css"]) {
      await expectNotFound(await app.request(url, { headers: { "x-test-remote": "203.0.113.9" } }));
    }
  });

  it("answers 404 for malformed, unknown and path-traversing ids without reading outside the outbox", async () => {
    await sendTwo();
    await writeFile(path.join(root, "secret.json"), JSON.stringify({ id: "secret" }));
    await writeFile(path.join(root, "secret.eml"), "not for you");
    const app = platform();
    for (const url of [
      "/outbox/nope",
      "/outbox/20261120T092843123Z-000000000000",
      "/outbox/20261120T092843123Z-000000000000.eml",
      "/outbox/..%2Fsecret",
      "/outbox/..%2Fsecret.eml",
      "/outbox/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
      "/outbox/20261120T092843123Z-000000000000%2F..%2F..%2Fsecret.eml",
      "/outbox/a/b",
    ]) {
      const response = await app.request(url);
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).not.toContain("not for you");
    }
    await expectNotFound(await app.request("/outbox", { method: "POST" }));
  });
});
