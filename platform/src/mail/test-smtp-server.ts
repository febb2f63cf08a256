import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A message as the SMTP server received it: the envelope, the raw bytes, and the parsed mail. */
export interface ReceivedMail {
  envelopeFrom: string | undefined;
  envelopeTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  /** smtp://… or smtps://… pointing at this server, with the credentials when it wants a login. */
  url: string;
  port: number;
  received: ReceivedMail[];
  /** Every login attempt the server saw, accepted or not. */
  logins: { user: string | undefined; pass: string | undefined }[];
  close(): Promise<void>;
}

export interface TestSmtpServerOptions {
  /** When set, the server demands this login and refuses any other. */
  auth?: { user: string; pass: string };
  /** smtps: TLS from the first byte, with smtp-server's built-in self-signed certificate. */
  secure?: boolean;
}

/** A real SMTP server on a free loopback port, for tests: it keeps what it receives. */
export async function startTestSmtpServer(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const logins: TestSmtpServer["logins"] = [];
  const wanted = options.auth;
  const server = new SMTPServer({
    secure: options.secure ?? false,
    // Plain-text tests have no certificate the client would trust, so STARTTLS is not offered.
    disabledCommands: options.secure || wanted ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !wanted,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push({ user: auth.username ?? undefined, pass: auth.password ?? undefined });
      if (wanted && auth.username === wanted.user && auth.password === wanted.pass) callback(null, { user: auth.username });
      else callback(Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            received.push({
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
              envelopeTo: session.envelope.rcptTo.map((recipient) => recipient.address),
              raw,
              parsed,
            });
            callback();
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Clients that hang up mid-handshake are what the failure tests are about, not a reason to crash.
  server.on("error", () => undefined);
  const port = (server.server.address() as AddressInfo).port;
  const credentials = wanted ? `${encodeURIComponent(wanted.user)}:${encodeURIComponent(wanted.pass)}@` : "";
  return {
    url: `${options.secure ? "smtps" : "smtp"}://${credentials}127.0.0.1:${port}`,
    port,
    received,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
