import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import TurndownService from "turndown";

/** A page as the model reads it: its title and its main text in Markdown. */
export interface ReadablePage {
  title: string | undefined;
  markdown: string;
}

/** The part of linkedom's DOM used here (its own types name DOM lib types the gateway, a Node service, does not load). */
interface PageElement {
  tagName: string;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
}
interface PageDocument {
  title: string | undefined;
  head: { prepend(node: PageElement): void } | null;
  body: { innerHTML: string } | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  createElement(tag: string): PageElement;
}

function parseDocument(html: string): PageDocument {
  return (parseHTML(html) as unknown as { document: PageDocument }).document;
}

function turndown(): TurndownService {
  const service = new TurndownService({ headingStyle: "atx", codeBlockStyle: "fenced", bulletListMarker: "-" });
  // Nothing a reader sees: scripts, styles, embedded frames and forms would only cost tokens.
  service.remove(["script", "style", "noscript", "iframe", "object", "embed", "form", "template"] as never);
  return service;
}

/**
 * Turns an HTML page into readable Markdown: Readability picks the main content (dropping
 * navigation, footers and ads) out of a linkedom document, Turndown writes it as Markdown. A page
 * Readability finds no article in is converted whole. Relative links are resolved against `url`.
 */
export function pageToMarkdown(html: string, url: string): ReadablePage {
  const document = parseDocument(html);
  // Readability makes links absolute against the document's base; linkedom has no URL of its own.
  if (!document.querySelector("base[href]")) {
    const base = document.createElement("base");
    base.setAttribute("href", url);
    document.head?.prepend(base);
  }
  const fallbackTitle = document.title?.trim() || undefined;
  let article: ReturnType<Readability["parse"]> = null;
  try {
    article = new Readability(document).parse();
  } catch {
    article = null;
  }
  const contentHtml = article?.content ?? document.body?.innerHTML ?? html;
  const markdown = turndown().turndown(absoluteLinks(contentHtml, url)).replace(/\n{3,}/g, "\n\n").trim();
  return { title: article?.title?.trim() || fallbackTitle, markdown };
}

/** Rewrites relative href/src attributes to absolute URLs, so links in the Markdown still lead somewhere. */
function absoluteLinks(html: string, url: string): string {
  const document = parseDocument(`<!doctype html><html><body>${html}</body></html>`);
  for (const element of document.querySelectorAll("a[href], img[src]")) {
    const attribute = element.tagName.toLowerCase() === "a" ? "href" : "src";
    const value = element.getAttribute(attribute);
    if (value === null) continue;
    try {
      element.setAttribute(attribute, new URL(value, url).href);
    } catch {
      element.removeAttribute(attribute);
    }
  }
  return document.body?.innerHTML ?? html;
}
