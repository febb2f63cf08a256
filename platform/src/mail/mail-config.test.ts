import path from "node:path";
import { describe, expect, it } from "vitest";
import { createMailer } from "./create-mailer";
import { DEFAULT_MAIL_FROM, readMailConfig, type MailConfigResult } from "./mail-config";

const HOME = "/home/ada";

function configOf(result: MailConfigResult) {
  if (!result.ok) throw new Error(`expected a config, got ${result.problems.join("; ")}`);
  return result.config;
}
function problemsOf(result: MailConfigResult) {
  if (result.ok) throw new Error("expected problems");
  return result.problems;
}

describe("readMailConfig", () => {
  it("defaults to the local outbox next to the embedded database, from no-reply@localhost", () => {
    expect(configOf(readMailConfig({}, HOME))).toEqual({ smtpUrl: undefined, from: DEFAULT_MAIL_FROM, outboxDir: path.join(HOME, ".workforce", "outbox") });
    expect(configOf(readMailConfig({ SMTP_URL: "  ", WORKFORCE_MAIL_FROM: "", WORKFORCE_OUTBOX_DIR: "" }, HOME)).smtpUrl).toBeUndefined();
  });

  it("takes SMTP_URL, the sender and the outbox directory when they are valid", () => {
    const config = configOf(
      readMailConfig({ SMTP_URL: " smtps://u:p@smtp.example.com ", WORKFORCE_MAIL_FROM: "Acme Agents <agents@acme.example>", WORKFORCE_OUTBOX_DIR: "/var/lib/workforce/outbox/" }, HOME),
    );
    expect(config).toEqual({ smtpUrl: "smtps://u:p@smtp.example.com", from: "Acme Agents <agents@acme.example>", outboxDir: "/var/lib/workforce/outbox" });
  });

  it("reports every bad variable at once, each named with its fix", () => {
    const problems = problemsOf(
      readMailConfig({ SMTP_URL: "mail.example.com:25", WORKFORCE_MAIL_FROM: "a@example.com, b@example.com", WORKFORCE_OUTBOX_DIR: "outbox" }, HOME),
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^SMTP_URL: must start with smtp:\/\//);
    expect(problems[1]).toMatch(/^WORKFORCE_MAIL_FROM: must be one email address.*e\.g\. WORKFORCE_MAIL_FROM=/);
    expect(problems[2]).toMatch(/^WORKFORCE_OUTBOX_DIR: must be an absolute path/);
    expect(problemsOf(readMailConfig({ WORKFORCE_MAIL_FROM: "Workforce" }, HOME))[0]).toMatch(/^WORKFORCE_MAIL_FROM/);
  });
});

describe("createMailer", () => {
  const deps = { logError: () => undefined, now: () => new Date() };

  it("sends through SMTP when SMTP_URL is set, and keeps mail in the outbox otherwise", async () => {
    const smtp = createMailer(configOf(readMailConfig({ SMTP_URL: "smtp://u:secret@smtp.example.com:2525" }, HOME)), deps);
    expect(smtp.describe()).toBe("SMTP smtp.example.com:2525");
    await smtp.close();

    const outbox = createMailer(configOf(readMailConfig({}, HOME)), deps);
    expect(outbox.describe()).toBe(`outbox ${path.join(HOME, ".workforce", "outbox")}`);
    await outbox.close();
  });
});
