import { describe, expect, it } from "vitest";
import { describeSmtp, parseSmtpUrl, type SmtpUrlResult } from "./smtp-url";

function settingsOf(result: SmtpUrlResult) {
  if (!result.ok) throw new Error(`expected valid settings, got ${result.problems.join("; ")}`);
  return result.settings;
}
function problemsOf(result: SmtpUrlResult) {
  if (result.ok) throw new Error("expected problems");
  return result.problems;
}

describe("parseSmtpUrl", () => {
  it("reads smtp:// with a login, defaulting to port 587 and STARTTLS when offered", () => {
    const settings = settingsOf(parseSmtpUrl("smtp://apikey:s3cr%40t@smtp.example.com"));
    expect(settings).toEqual({
      secure: false,
      host: "smtp.example.com",
      port: 587,
      auth: { user: "apikey", pass: "s3cr@t" },
      requireTLS: false,
      ignoreTLS: false,
      rejectUnauthorized: true,
    });
    expect(describeSmtp(settings)).toBe("SMTP smtp.example.com:587");
  });

  it("reads smtps:// (port 465 by default), a relay without login, IPv6 hosts and the supported options", () => {
    expect(settingsOf(parseSmtpUrl("smtps://u:p@mail.example.com"))).toMatchObject({ secure: true, port: 465 });
    expect(settingsOf(parseSmtpUrl("smtp://relay.internal:25")).auth).toBeUndefined();
    const ipv6 = settingsOf(parseSmtpUrl("smtps://[::1]:2465?tls.rejectUnauthorized=false"));
    expect(ipv6).toMatchObject({ host: "::1", port: 2465, rejectUnauthorized: false });
    expect(describeSmtp(ipv6)).toBe("SMTPS [::1]:2465");
    expect(settingsOf(parseSmtpUrl("smtp://u:p@mail.example.com:587?requireTLS=true"))).toMatchObject({ requireTLS: true, ignoreTLS: false });
  });

  it("explains each mistake by naming SMTP_URL and the fix, without repeating the password", () => {
    const cases: [string, RegExp][] = [
      ["smtp.example.com:587", /must start with smtp:\/\/ .* or smtps:\/\//],
      ["https://smtp.example.com", /must start with smtp:\/\//],
      ["not a url at all", /is not a valid URL; e\.g\. SMTP_URL=smtp:\/\//],
      ["smtp://user:pa/ss@smtp.example.com", /percent-encode .* \/ as %2F/],
      ["smtp://user:pa#ss@smtp.example.com", /percent-encode .* # as %23/],
      ["smtp://smtp.example.com:587/path", /must not have a path/],
      ["smtp://user@smtp.example.com", /has a user but no password/],
      ["smtp://:secret-pass@smtp.example.com", /has a password but no user/],
      ["smtp://u:p@smtp.example.com?secure=true", /unknown option \?secure; supported: requireTLS, ignoreTLS, tls\.rejectUnauthorized/],
      ["smtp://u:p@smtp.example.com?requireTLS=yes", /requireTLS must be true or false/],
      ["smtp://u:p@smtp.example.com?requireTLS=true&ignoreTLS=true", /cannot both require and ignore TLS/],
      ["smtp://u:p%zz@smtp.example.com", /broken percent-encoding/],
    ];
    for (const [url, expected] of cases) {
      const problems = problemsOf(parseSmtpUrl(url));
      expect(problems.join("\n"), url).toMatch(expected);
      for (const problem of problems) expect(problem, url).toMatch(/^SMTP_URL: /);
      expect(problems.join("\n")).not.toMatch(/secret-pass|pa\/ss|pa#ss/);
    }
  });
});
