import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { AppError } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { renderMail } from "./render-mail";
import { createSmtpMailer } from "./smtp-mailer";
import { startTestSmtpServer, type TestSmtpServer } from "./test-smtp-server";

const FROM = "Workforce <no-reply@workforce.test>";
const LINK = "https://workforce.example.com/auth/v1/verify?token=abc123&type=signup&redirect_to=https%3A%2F%2Fworkforce.example.com%2F";

const servers: TestSmtpServer[] = [];
async function server(options?: Parameters<typeof startTestSmtpServer>[0]) {
  const started = await startTestSmtpServer(options);
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((started) => started.close()));
});

function collectLog() {
  const lines: string[] = [];
  return { lines, logError: (message: string, detail: unknown) => lines.push(`${message} ${JSON.stringify(detail)}`) };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function failureOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("createSmtpMailer", () => {
  it("delivers a mail to an SMTP server without login, with the link and code in both versions", async () => {
    const smtp = await server();
    const mailer = createSmtpMailer({ smtpUrl: smtp.url, from: FROM, ...collectLog() });
    await mailer.send(renderMail("confirm-signup", { to: "ada@example.com", link: LINK, code: "493027" }));
    await mailer.close();

    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!;
    expect(mail.envelopeTo).toEqual(["ada@example.com"]);
    expect(mail.envelopeFrom).toBe("no-reply@workforce.test");
    expect(mail.parsed.from?.text).toBe('"Workforce" <no-reply@workforce.test>');
    expect(mail.parsed.subject).toBe("Confirm your email address for Workforce");
    expect(mail.parsed.text).toContain(LINK);
    expect(mail.parsed.text).toContain("493027");
    expect(mail.parsed.html).toContain(`href="${LINK.replaceAll("&", "&amp;")}"`);
    expect(mail.parsed.html).toContain("493027");
    expect(mail.parsed.headers.get("auto-submitted")).toBe("auto-generated");
    expect(smtp.logins).toEqual([]);
  });

  it("logs in with the user and percent-decoded password from SMTP_URL", async () => {
    const smtp = await server({ auth: { user: "mailer@workforce.test", pass: "p@ss:w/rd#1%" } });
    const mailer = createSmtpMailer({ smtpUrl: smtp.url, from: FROM, ...collectLog() });
    await mailer.send(renderMail("recovery", { to: "ada@example.com", link: LINK, code: "000123" }));

    expect(smtp.logins).toEqual([{ user: "mailer@workforce.test", pass: "p@ss:w/rd#1%" }]);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.parsed.subject).toBe("Reset your Workforce password");
    expect(smtp.received[0]!.parsed.text).toContain("000123");
    expect(mailer.describe()).toBe(`SMTP 127.0.0.1:${smtp.port}`);
    expect(mailer.describe()).not.toContain("p@ss");
  });

  it("speaks TLS from the start with smtps://, trusting a self-signed server only when told to", async () => {
    const smtp = await server({ secure: true });
    const trusting = createSmtpMailer({ smtpUrl: `${smtp.url}?tls.rejectUnauthorized=false`, from: FROM, ...collectLog() });
    await trusting.send(renderMail("password-changed", { to: "ada@example.com" }));
    expect(smtp.received.map((mail) => mail.parsed.subject)).toEqual(["Your Workforce password was changed"]);
    expect(trusting.describe()).toBe(`SMTPS 127.0.0.1:${smtp.port}`);

    const log = collectLog();
    const strict = createSmtpMailer({ smtpUrl: smtp.url, from: FROM, ...log });
    const error = await failureOf(strict.send(renderMail("password-changed", { to: "ada@example.com" })));
    expect(error.code).toBe("mail_unavailable");
    expect(error.message).toMatch(/certificate was not accepted.*tls\.rejectUnauthorized=false/);
    // smtp-server's built-in certificate is self-signed (and by now expired): either way Node names it.
    expect(log.lines.join("\n")).toMatch(/certificate/i);
    expect(smtp.received).toHaveLength(1);
  });

  it("points at smtp:// versus smtps:// when the URL's scheme does not match the port", async () => {
    const plain = await server();
    const tlsToPlain = createSmtpMailer({ smtpUrl: plain.url.replace("smtp://", "smtps://"), from: FROM, ...collectLog() });
    const wrongVersion = await failureOf(tlsToPlain.send(renderMail("password-changed", { to: "ada@example.com" })));
    expect(wrongVersion.message).toMatch(/TLS with the mail server failed.*smtp:\/\/ or smtps:\/\//);

    const tls = await server({ secure: true });
    // The TLS server waits for a handshake and never greets in plain text, so the greeting timeout always fires.
    const plainToTls = createSmtpMailer({ smtpUrl: tls.url.replace("smtps://", "smtp://"), from: FROM, timeouts: { greeting: 200 }, ...collectLog() });
    const silent = await failureOf(plainToTls.send(renderMail("password-changed", { to: "ada@example.com" })));
    expect(silent.message).toMatch(/did not answer.*should start with smtps:\/\//);
  });

  it("answers mail_unavailable naming the login when the server refuses it, and never logs the password", async () => {
    const smtp = await server({ auth: { user: "mailer", pass: "right-password" } });
    const log = collectLog();
    const mailer = createSmtpMailer({ smtpUrl: `smtp://mailer:wrong-Secret%2F42@127.0.0.1:${smtp.port}`, from: FROM, ...log });

    const error = await failureOf(mailer.send(renderMail("password-changed", { to: "ada@example.com" })));
    expect(error).toMatchObject({ code: "mail_unavailable", status: 503, retryable: false });
    expect(error.message).toMatch(/refused the login.*SMTP_URL/);
    expect(smtp.logins).toEqual([{ user: "mailer", pass: "wrong-Secret/42" }]);
    expect(smtp.received).toEqual([]);

    const logged = log.lines.join("\n");
    expect(logged).toContain("EAUTH");
    expect(logged).toContain(`SMTP 127.0.0.1:${smtp.port}`);
    expect(logged).toContain("ada@example.com");
    expect(logged).not.toContain("wrong-Secret");
    expect(JSON.stringify(error)).not.toContain("wrong-Secret");
  });

  it("answers a retryable mail_unavailable when the server is down", async () => {
    const port = await closedPort();
    const log = collectLog();
    const mailer = createSmtpMailer({ smtpUrl: `smtp://mailer:hunter22@127.0.0.1:${port}`, from: FROM, ...log });

    const error = await failureOf(mailer.send(renderMail("password-changed", { to: "ada@example.com" })));
    expect(error).toMatchObject({ code: "mail_unavailable", status: 503, retryable: true });
    expect(error.message).toMatch(/could not be reached/);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain("ECONNREFUSED");
    expect(log.lines[0]).not.toContain("hunter22");
  });

  it("refuses a recipient that is more than one address, sending nothing", async () => {
    const smtp = await server();
    const mailer = createSmtpMailer({ smtpUrl: smtp.url, from: FROM, ...collectLog() });
    const message = { ...renderMail("password-changed", { to: "ada@example.com" }), to: "ada@example.com, eve@example.com" };

    const error = await failureOf(mailer.send(message));
    expect(error.code).toBe("validation_failed");
    expect(smtp.received).toEqual([]);
  });
});
