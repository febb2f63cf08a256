import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AppError } from "@workforce/protocol";
import { simpleParser } from "mailparser";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOutboxMailer } from "./outbox-mailer";
import { listOutbox, OUTBOX_ID_PATTERN } from "./outbox-store";
import { renderMail } from "./render-mail";

const FROM = "Workforce <no-reply@localhost>";
const LINK = "https://workforce.example.com/auth/v1/verify?token=abc&type=recovery";

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "workforce-outbox-"));
  dir = path.join(root, "home", ".workforce", "outbox");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const at = (iso: string) => () => new Date(iso);
const mode = async (file: string) => (await stat(file)).mode & 0o777;

describe("createOutboxMailer", () => {
  it("keeps each mail as a private .eml any mail client can open, plus a JSON sidecar", async () => {
    const mailer = createOutboxMailer({ dir, from: FROM, now: at("2026-11-20T09:28:43.123Z") });
    await mailer.send(renderMail("recovery", { to: "ada@example.com", link: LINK, code: "314159" }));

    const names = (await readdir(dir)).sort();
    expect(names).toHaveLength(2);
    const id = names[0]!.replace(/\.eml$/, "");
    expect(id).toMatch(OUTBOX_ID_PATTERN);
    expect(id.startsWith("20261120T092843123Z-")).toBe(true);
    expect(names).toEqual([`${id}.eml`, `${id}.json`]);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, `${id}.eml`))).toBe(0o600);
    expect(await mode(path.join(dir, `${id}.json`))).toBe(0o600);

    const raw = await readFile(path.join(dir, `${id}.eml`));
    expect(raw.includes("\r\n")).toBe(true);
    const parsed = await simpleParser(raw);
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : undefined).toBe("ada@example.com");
    expect(parsed.from?.text).toBe('"Workforce" <no-reply@localhost>');
    expect(parsed.subject).toBe("Reset your Workforce password");
    expect(parsed.date?.toISOString()).toBe("2026-11-20T09:28:43.000Z");
    expect(parsed.text).toContain(LINK);
    expect(parsed.text).toContain("314159");
    expect(parsed.html).toContain("<strong>314159</strong>");

    const sidecar = JSON.parse(await readFile(path.join(dir, `${id}.json`), "utf8"));
    expect(sidecar).toEqual({
      id,
      to: "ada@example.com",
      subject: "Reset your Workforce password",
      text: parsed.text,
      html: expect.stringContaining(LINK.replace("&", "&amp;")),
      createdAt: "2026-11-20T09:28:43.123Z",
    });
    expect(mailer.describe()).toBe(`outbox ${dir}`);
  });

  it("lands every mail when several processes write at once, even within one millisecond", async () => {
    const now = at("2026-11-20T10:00:00.000Z");
    const processes = [createOutboxMailer({ dir, from: FROM, now }), createOutboxMailer({ dir, from: FROM, now })];
    const sends = processes.flatMap((mailer, process) =>
      Array.from({ length: 15 }, (_, index) => mailer.send(renderMail("password-changed", { to: `user${process}-${index}@example.com` }))),
    );
    await Promise.all(sends);

    const names = await readdir(dir);
    expect(names.filter((name) => name.endsWith(".eml"))).toHaveLength(30);
    expect(names.filter((name) => name.endsWith(".json"))).toHaveLength(30);
    expect(names.filter((name) => name.startsWith("."))).toEqual([]);
    const { entries, total } = await listOutbox(dir);
    expect(total).toBe(30);
    expect(new Set(entries.map((entry) => entry.to)).size).toBe(30);
  });

  it("lists the newest mail first and skips files that are not the outbox's", async () => {
    await createOutboxMailer({ dir, from: FROM, now: at("2026-11-20T08:00:00.000Z") }).send(renderMail("password-changed", { to: "first@example.com" }));
    await createOutboxMailer({ dir, from: FROM, now: at("2026-11-20T09:00:00.000Z") }).send(renderMail("password-changed", { to: "second@example.com" }));
    await writeFile(path.join(dir, "20261120T100000000Z-000000000000.json"), "{ not json");
    await writeFile(path.join(dir, "notes.json"), "{}");

    const { entries } = await listOutbox(dir);
    expect(entries.map((entry) => entry.to)).toEqual(["second@example.com", "first@example.com"]);
  });

  it("answers mail_unavailable when the outbox cannot be written", async () => {
    await writeFile(path.join(root, "home"), "a file where the directory should be");
    const logged: string[] = [];
    const mailer = createOutboxMailer({ dir, from: FROM, now: () => new Date(), logError: (message) => logged.push(message) });
    const error = await mailer.send(renderMail("password-changed", { to: "ada@example.com" })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "mail_unavailable", status: 503 });
    // The path is for the operator's log, not for whoever asked for the mail.
    expect((error as AppError).message).not.toContain(dir);
    expect(logged).toEqual([`could not write a mail to the outbox ${dir}`]);
  });
});
