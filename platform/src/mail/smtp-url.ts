/** The SMTP server mail goes to, as read from SMTP_URL. */
export interface SmtpSettings {
  /** smtps:// speaks TLS from the first byte (usually port 465); smtp:// upgrades with STARTTLS when offered. */
  secure: boolean;
  host: string;
  port: number;
  /** From the URL's user and password, percent-decoded; undefined for a relay that needs no login. */
  auth: { user: string; pass: string } | undefined;
  /** `?requireTLS=true`: refuse to send over smtp:// unless STARTTLS succeeds. */
  requireTLS: boolean;
  /** `?ignoreTLS=true`: never try STARTTLS (a local relay with a broken certificate). */
  ignoreTLS: boolean;
  /** `?tls.rejectUnauthorized=false` turns this off, for an internal relay with a self-signed certificate. */
  rejectUnauthorized: boolean;
}

export type SmtpUrlResult = { ok: true; settings: SmtpSettings } | { ok: false; problems: string[] };

export const SMTP_URL_EXAMPLE = "SMTP_URL=smtp://user:password@smtp.example.com:587";

const OPTIONS = ["requireTLS", "ignoreTLS", "tls.rejectUnauthorized"] as const;
type OptionName = (typeof OPTIONS)[number];

function isOptionName(name: string): name is OptionName {
  return (OPTIONS as readonly string[]).includes(name);
}

/**
 * Reads SMTP_URL (`smtp://user:pass@host:port` or `smtps://…`, a few options as query parameters).
 * Problems name SMTP_URL and the fix and never repeat the URL, which may hold a password.
 */
export function parseSmtpUrl(value: string): SmtpUrlResult {
  const problem = (message: string): SmtpUrlResult => ({ ok: false, problems: [`SMTP_URL: ${message}`] });
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return problem(`is not a valid URL; e.g. ${SMTP_URL_EXAMPLE} (percent-encode special characters in the user and password: @ as %40, : as %3A, / as %2F, # as %23)`);
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    return problem(`must start with smtp:// (STARTTLS, usually port 587) or smtps:// (TLS, usually port 465); e.g. ${SMTP_URL_EXAMPLE}`);
  }
  const problems: string[] = [];
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") problems.push(`needs a host; e.g. ${SMTP_URL_EXAMPLE}`);
  const port = url.port === "" ? (url.protocol === "smtps:" ? 465 : 587) : Number(url.port);
  if (port === 0) problems.push("must not use port 0; leave the port out for the default (587 for smtp://, 465 for smtps://)");
  // A stray '/', '?' or '#' in an unencoded password ends the password early and lands here.
  if (url.pathname !== "" && url.pathname !== "/") problems.push("must not have a path; percent-encode '/' in the user or password as %2F");
  if (url.hash !== "") problems.push("must not have a '#' part; percent-encode '#' in the user or password as %23");

  let auth: SmtpSettings["auth"];
  if (url.username !== "" || url.password !== "") {
    try {
      auth = { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
    } catch {
      problems.push("has a user or password with a broken percent-encoding; encode '%' itself as %25");
    }
    if (url.username === "") problems.push("has a password but no user; write smtp://user:password@host");
    else if (url.password === "") problems.push("has a user but no password; write smtp://user:password@host, or leave both out for a relay without login");
  }

  const options: Record<OptionName, boolean | undefined> = { requireTLS: undefined, ignoreTLS: undefined, "tls.rejectUnauthorized": undefined };
  for (const [name, raw] of url.searchParams) {
    if (!isOptionName(name)) {
      problems.push(`has an unknown option ?${name}; supported: ${OPTIONS.join(", ")}`);
    } else if (raw !== "true" && raw !== "false") {
      problems.push(`option ?${name} must be true or false`);
    } else {
      options[name] = raw === "true";
    }
  }
  if (options.requireTLS && options.ignoreTLS) problems.push("cannot both require and ignore TLS; drop requireTLS or ignoreTLS");

  if (problems.length > 0) return { ok: false, problems: problems.map((message) => `SMTP_URL: ${message}`) };
  return {
    ok: true,
    settings: {
      secure: url.protocol === "smtps:",
      host,
      port,
      auth,
      requireTLS: options.requireTLS ?? false,
      ignoreTLS: options.ignoreTLS ?? false,
      rejectUnauthorized: options["tls.rejectUnauthorized"] ?? true,
    },
  };
}

/** "SMTP smtp.example.com:587" or "SMTPS [::1]:465": where mail goes, without credentials. */
export function describeSmtp(settings: SmtpSettings): string {
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return `${settings.secure ? "SMTPS" : "SMTP"} ${host}:${settings.port}`;
}
