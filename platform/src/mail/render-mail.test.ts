import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { MAIL_KINDS, renderMail } from "./render-mail";

const LINK = "https://workforce.example.com/auth/v1/verify?token=t0k3n&type=invite&redirect_to=%2Fteam";

describe("renderMail", () => {
  it("says who invited whom to which organisation and as what, with the link to accept", () => {
    const mail = renderMail("invitation", {
      to: "grace@example.com",
      link: LINK,
      organisation: "Acme",
      inviterEmail: "ada@example.com",
      inviterName: "Ada",
      role: "member",
    });
    expect(mail.to).toBe("grace@example.com");
    expect(mail.subject).toBe("Ada invited you to join Acme on Workforce");
    expect(mail.text).toContain("Ada (ada@example.com) invited you to join Acme on Workforce as a member.");
    expect(mail.text).toContain(LINK);
    expect(mail.html).toContain(`<a href="${LINK.replaceAll("&", "&amp;")}">Accept the invitation</a>`);

    const byEmailOnly = renderMail("invitation", { to: "grace@example.com", link: LINK, organisation: "Acme", inviterEmail: "ada@example.com", role: "admin" });
    expect(byEmailOnly.text).toContain("ada@example.com invited you to join Acme on Workforce as an admin.");
    expect(byEmailOnly.subject).toBe("ada@example.com invited you to join Acme on Workforce");
  });

  it.each(["confirm-signup", "recovery", "email-change"] as const)("%s carries the link and the 6-digit code in text and HTML", (kind) => {
    const mail = renderMail(kind, { to: "ada@example.com", link: LINK, code: "004271" });
    expect(mail.text).toContain(LINK);
    expect(mail.text).toContain("Or enter this code: 004271");
    expect(mail.html).toContain(`href="${LINK.replaceAll("&", "&amp;")}"`);
    expect(mail.html).toContain("<strong>004271</strong>");
  });

  it("names the new address in an email-change mail, and the account in a reset", () => {
    expect(renderMail("email-change", { to: "ada@new.example", link: LINK, code: "123456" }).text).toContain("Confirm ada@new.example as the new email address of your Workforce account.");
    expect(renderMail("recovery", { to: "ada@example.com", link: LINK, code: "123456" }).text).toContain("reset the password of ada@example.com");
  });

  it("sends a password-changed notice without any link", () => {
    const mail = renderMail("password-changed", { to: "ada@example.com" });
    expect(mail.subject).toBe("Your Workforce password was changed");
    expect(mail.text).toContain("ada@example.com was just changed");
    expect(mail.text).not.toMatch(/https?:/);
    expect(mail.html).not.toContain("<a ");
  });

  it("escapes every value in the HTML version and keeps names on one line", () => {
    const mail = renderMail("invitation", {
      to: "grace@example.com",
      link: 'https://workforce.example.com/accept?token="><script>alert(1)</script>',
      organisation: "<script>alert('org')</script> & Co\r\nBcc: eve@example.com",
      inviterEmail: "ada@example.com",
      inviterName: '<img src=x onerror="alert(1)">',
      role: "owner",
    });
    expect(mail.html).not.toMatch(/<script|<img|onerror="/);
    expect(mail.html).toContain("&lt;script&gt;alert(&#39;org&#39;)&lt;/script&gt; &amp; Co Bcc: eve@example.com");
    expect(mail.html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.text).toContain("as an owner.");
  });

  it("loads nothing from elsewhere: no images, scripts or stylesheets", () => {
    for (const kind of MAIL_KINDS) {
      const mail =
        kind === "invitation"
          ? renderMail(kind, { to: "grace@example.com", link: LINK, organisation: "Acme", inviterEmail: "ada@example.com", role: "member" })
          : renderMail(kind, { to: "ada@example.com", link: LINK, code: "123456" });
      expect(mail.html).toMatch(/^<!doctype html>\n<html lang="en">/);
      expect(mail.html).not.toMatch(/<(img|script|link|iframe|style)\b|src=/i);
    }
  });

  it("links to any http(s) origin PUBLIC_URL may be, localhost and IP addresses included", () => {
    for (const origin of ["http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000", "http://workforce.internal", LINK]) {
      const link = `${new URL(origin).origin}/auth/confirm?token_hash=abc&type=signup`;
      expect(renderMail("confirm-signup", { to: "ada@example.com", link, code: "123456" }).text).toContain(link);
    }
  });

  it("refuses a link that is not http(s) and a code that is not 6 digits", () => {
    expect(() => renderMail("recovery", { to: "ada@example.com", link: "javascript:alert(1)", code: "123456" })).toThrow(ZodError);
    expect(() => renderMail("recovery", { to: "ada@example.com", link: "/relative/path", code: "123456" })).toThrow(ZodError);
    expect(() => renderMail("recovery", { to: "ada@example.com", link: "ftp://example.com/file", code: "123456" })).toThrow(ZodError);
    expect(() => renderMail("recovery", { to: "ada@example.com", link: LINK, code: "12345" })).toThrow(ZodError);
    expect(() => renderMail("password-changed", { to: "not an address" })).toThrow(ZodError);
  });
});
