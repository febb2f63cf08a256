import { AppError } from "@workforce/protocol";
import { z } from "zod";
import { defineTool } from "../define-tool";
import type { Tool } from "../tool";
import { decodeText, readLimited } from "./read-body";
import type { RobotsRules } from "./robots-rules";
import { fetchFailure, withTimeout } from "./web-request";

export interface WebFetchOptions {
  /** The guarded fetch (packages/net-guard): only public addresses unless the operator allows more. */
  fetch: typeof fetch;
  robots: RobotsRules;
  userAgent: string;
  /** Bytes of a body read at most; the rest is cut (default 2 MB). */
  maxBytes?: number;
  /** Longest a fetch may take, redirects and body included (default 15 s). */
  timeoutMs?: number;
  /** Characters of text handed back at most (default 30,000). */
  maxChars?: number;
}

const MAX_REDIRECTS = 5;

const WebFetchInput = z.object({
  url: z
    .string()
    .max(2000)
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), "must be a full http:// or https:// URL"),
});

type BodyKind = "html" | "text" | "binary" | "unknown";

function kindOf(contentType: string | null): BodyKind {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "") return "unknown";
  if (type === "text/html" || type === "application/xhtml+xml") return "html";
  if (type.startsWith("text/") || /^application\/(json|xml|javascript|x-ndjson|ld\+json|rss\+xml|atom\+xml)$/.test(type) || /\+(json|xml)$/.test(type)) return "text";
  return "binary";
}

/** A body without a Content-Type is text unless its first bytes hold a NUL (what binaries have and text never does). */
function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 1024).includes(0);
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

/**
 * `web_fetch`: an HTTP GET of one page through the SSRF guard, honouring the site's robots.txt,
 * within a byte and a time limit, handed back as readable Markdown (HTML) or as it is (text, JSON).
 * Binary content is refused. Each redirect hop is checked by the guard and against robots.txt.
 */
export function createWebFetchTool(options: WebFetchOptions): Tool {
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxChars = options.maxChars ?? 30_000;

  async function get(url: URL, signal: AbortSignal): Promise<{ response: Response; url: URL }> {
    let current = url;
    for (let hop = 0; ; hop++) {
      await options.robots.assertAllowed(current);
      const response = await options.fetch(current, {
        headers: { "user-agent": options.userAgent, accept: "text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.1" },
        redirect: "manual",
        signal,
      });
      const location = response.headers.get("location");
      if (response.status < 300 || response.status > 399 || location === null) return { response, url: current };
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new AppError("web_fetch_failed", `${url.href} redirects more than ${MAX_REDIRECTS} times; the page was not fetched`);
      current = new URL(location, current);
    }
  }

  return defineTool({
    name: "web_fetch",
    description:
      "Fetch a web page (HTTP GET) and read it: HTML comes back as readable Markdown (main content only), plain text and JSON as they are. " +
      `Honours robots.txt. Pages over ${megabytes(maxBytes)} are cut; images, PDFs and other binary files are refused.`,
    input: WebFetchInput,
    async run(input, context) {
      const requested = new URL(input.url);
      return withTimeout(context.signal, timeoutMs, `${requested.host} did not answer within ${timeoutMs / 1000} s`, async (signal) => {
        let fetched: { response: Response; url: URL };
        try {
          fetched = await get(requested, signal);
        } catch (error) {
          throw fetchFailure(error, requested.host);
        }
        const { response, url } = fetched;
        if (!response.ok) {
          await response.body?.cancel();
          throw new AppError("web_fetch_failed", `${url.href} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`);
        }
        const contentType = response.headers.get("content-type");
        let kind = kindOf(contentType);
        if (kind === "binary") {
          await response.body?.cancel();
          throw new AppError("web_unsupported_content", `${url.href} is ${contentType!.split(";")[0]!.trim()}, not a page: web_fetch reads HTML, text and JSON`);
        }
        const body = await readLimited(response, maxBytes).catch((error: unknown) => {
          throw fetchFailure(error, url.host);
        });
        if (kind === "unknown") kind = looksBinary(body.bytes) ? "binary" : "text";
        if (kind === "binary") throw new AppError("web_unsupported_content", `${url.href} is binary content without a type, not a page: web_fetch reads HTML, text and JSON`);
        const text = decodeText(body.bytes, contentType);
        // The HTML reader (a DOM, Readability, Turndown: ~1.3 MB of code) loads with the first page, not with the gateway.
        const page = kind === "html" ? (await import("./page-to-markdown")).pageToMarkdown(text, url.href) : { title: undefined, markdown: text };
        const notes: string[] = [];
        if (body.truncated) notes.push(`[cut: the page is larger than ${megabytes(maxBytes)}; only its first ${megabytes(maxBytes)} were read]`);
        let content = page.markdown;
        if (content.length > maxChars) {
          notes.push(`[cut: ${content.length - maxChars} more characters not shown]`);
          content = content.slice(0, maxChars);
        }
        const header = [`URL: ${url.href}`, ...(page.title ? [`Title: ${page.title}`] : [])].join("\n");
        return [header, "", content, ...(notes.length ? ["", ...notes] : [])].join("\n");
      });
    },
  });
}
