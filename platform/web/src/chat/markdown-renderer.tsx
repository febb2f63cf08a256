import type { Element, ElementContent } from "hast";
import type { Nodes as MdastNodes, Root as MdastRoot } from "mdast";
import { memo, type ComponentProps } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeSanitize, { defaultSchema, type Options as SanitizeSchema } from "rehype-sanitize";
import remarkGfm from "remark-gfm";
import { CodeBlock } from "./code-block";

/**
 * Model output as GitHub-flavoured markdown (tables, task lists, strikethrough, autolinks) through
 * react-markdown, which builds React elements: raw HTML in the text is shown as text, never
 * parsed. rehype-sanitize then allows only GitHub's safe subset, with links limited to http,
 * https and mailto. An unterminated code fence (a reply still streaming) is code up to the end,
 * as CommonMark says, so the block grows in place instead of flickering.
 */
export const MarkdownRenderer = memo(function MarkdownRenderer({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={REMARK} rehypePlugins={REHYPE} components={COMPONENTS} urlTransform={safeUrl}>
        {text}
      </ReactMarkdown>
    </div>
  );
});

const LINK_PROTOCOLS = ["http", "https", "mailto"];

const SCHEMA: SanitizeSchema = {
  ...defaultSchema,
  protocols: { ...defaultSchema.protocols, href: LINK_PROTOCOLS, src: ["http", "https"], cite: ["http", "https"] },
};

/** Raw HTML in the text becomes literal text (react-markdown would drop it silently). */
function remarkHtmlAsText() {
  const visit = (node: MdastNodes): void => {
    if (!("children" in node)) return;
    const flow = node.type === "root" || node.type === "blockquote" || node.type === "listItem";
    node.children = node.children.map((child) => {
      if (child.type !== "html") return child;
      const text = { type: "text" as const, value: child.value };
      return flow ? { type: "paragraph" as const, children: [text] } : text;
    });
    for (const child of node.children) visit(child);
  };
  return (tree: MdastRoot) => visit(tree);
}

const REMARK = [remarkGfm, remarkHtmlAsText];
const REHYPE: NonNullable<ComponentProps<typeof ReactMarkdown>["rehypePlugins"]> = [[rehypeSanitize, SCHEMA]];

/** Links and image sources keep only the protocols above; anything else (javascript:, data:, relative paths) is dropped. */
export function safeUrl(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())?.[1]?.toLowerCase();
  return scheme !== undefined && LINK_PROTOCOLS.includes(scheme) ? url : "";
}

const headingTag = (level: number) => `h${Math.min(6, level + 2)}` as "h3";

const COMPONENTS: Components = {
  // A reply's headings sit under the chat's own h1.
  h1: ({ node: _node, ...props }) => { const Tag = headingTag(1); return <Tag {...props} />; },
  h2: ({ node: _node, ...props }) => { const Tag = headingTag(2); return <Tag {...props} />; },
  h3: ({ node: _node, ...props }) => { const Tag = headingTag(3); return <Tag {...props} />; },
  h4: ({ node: _node, ...props }) => <h6 {...props} />,
  h5: ({ node: _node, ...props }) => <h6 {...props} />,
  a: ({ node: _node, href, children, ...props }) =>
    href ? (
      <a {...props} href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  // An image from the model would load a URL the model chose (a way to leak the chat): a link to it instead.
  img: ({ src, alt }) =>
    typeof src === "string" && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer nofollow">
        {alt || src}
      </a>
    ) : (
      <span>{alt}</span>
    ),
  table: ({ node: _node, ...props }) => (
    // Focusable: a wide table scrolls sideways, and a keyboard must be able to scroll it too.
    <div className="table-scroll" tabIndex={0}>
      <table {...props} />
    </div>
  ),
  input: ({ node: _node, checked, type }) =>
    type === "checkbox" ? <input type="checkbox" checked={checked === true} disabled aria-label={checked ? "Done" : "Not done"} /> : null,
  pre: ({ node }) => {
    const code = node?.children.find((child): child is Element => child.type === "element" && child.tagName === "code");
    return <CodeBlock language={languageOf(code)} code={textOf(code).replace(/\n$/, "")} />;
  },
};

function languageOf(code: Element | undefined): string {
  const classes = code?.properties.className;
  const names = Array.isArray(classes) ? classes : [];
  const language = names.map(String).find((name) => name.startsWith("language-"));
  return language ? language.slice("language-".length) : "";
}

function textOf(node: ElementContent | Element | undefined): string {
  if (!node) return "";
  if (node.type === "text") return node.value;
  if (node.type === "element") return node.children.map(textOf).join("");
  return "";
}
