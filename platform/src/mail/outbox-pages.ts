import { escapeHtml } from "./escape-html";
import type { OutboxEntry } from "./outbox-store";

/** Where the platform mounts the outbox; the pages link to each other by absolute path. */
export const OUTBOX_PATH = "/outbox";

/** Served as a file, since the pages run under a CSP without inline styles. */
export const OUTBOX_STYLESHEET = `body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit; background: #f6f6f6; padding: 1rem; }
dt { font-weight: bold; }
dd { margin: 0 0 0.5rem 0; }
`;

/** http(s) URLs in plain text; trailing punctuation is taken as the sentence's, not the URL's. */
const URL_IN_TEXT = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/** The text with every character escaped and each http(s) URL made a link. */
export function linkify(text: string): string {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const url = match[0];
    html += escapeHtml(text.slice(last, match.index));
    html += `<a href="${escapeHtml(url)}" rel="noreferrer">${escapeHtml(url)}</a>`;
    last = match.index + url.length;
  }
  return html + escapeHtml(text.slice(last));
}

const time = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.slice(0, 19).replace("T", " "))} UTC</time>`;

function page(title: string, body: string): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<link rel="stylesheet" href="${OUTBOX_PATH}/style.css">`,
    "</head>",
    `<body><main>\n${body}\n</main></body>`,
    "</html>",
    "",
  ].join("\n");
}

/** The list of kept mails, newest first. */
export function outboxListPage(dir: string, entries: OutboxEntry[], total: number): string {
  const intro = `<p>No SMTP server is configured (<code>SMTP_URL</code>), so the emails Workforce would have sent are kept here, on this machine only, in <code>${escapeHtml(dir)}</code>.</p>`;
  if (entries.length === 0) return page("Outbox", `<h1>Outbox</h1>\n${intro}\n<p>No emails yet.</p>`);
  const rows = entries.map(
    (entry) =>
      `<tr><td>${time(entry.createdAt)}</td><td>${escapeHtml(entry.to)}</td><td><a href="${OUTBOX_PATH}/${entry.id}">${escapeHtml(entry.subject || "(no subject)")}</a></td></tr>`,
  );
  const more = total > entries.length ? `\n<p>Showing the newest ${entries.length} of ${total} emails.</p>` : "";
  return page(
    "Outbox",
    `<h1>Outbox</h1>\n${intro}\n<table>\n<thead><tr><th scope="col">Sent</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>\n<tbody>\n${rows.join("\n")}\n</tbody>\n</table>${more}`,
  );
}

/**
 * One mail, shown from its text version with the links made clickable. The stored HTML is never
 * rendered as a page: it is only as trustworthy as whatever went into the mail.
 */
export function outboxMailPage(entry: OutboxEntry): string {
  return page(
    `${entry.subject} · Outbox`,
    [
      `<p><a href="${OUTBOX_PATH}">All emails</a></p>`,
      `<h1>${escapeHtml(entry.subject || "(no subject)")}</h1>`,
      `<dl><dt>To</dt><dd>${escapeHtml(entry.to)}</dd><dt>Sent</dt><dd>${time(entry.createdAt)}</dd></dl>`,
      `<pre>${linkify(entry.text)}</pre>`,
      `<p><a href="${OUTBOX_PATH}/${entry.id}.eml" download>Download the .eml</a> to open it in a mail client.</p>`,
    ].join("\n"),
  );
}
