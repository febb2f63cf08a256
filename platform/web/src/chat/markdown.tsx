import { Fragment, type ReactNode } from "react";

/**
 * A deliberately small markdown renderer for model output: paragraphs, headings, fenced code,
 * inline code, bold, italics, links (http/https/mailto only), lists and quotes. It builds React
 * elements, so model text is always escaped; no HTML from the model reaches the DOM.
 * An unterminated code fence (a reply still streaming) renders as code so far.
 */
export function Markdown({ text }: { text: string }) {
  return <div className="markdown">{renderBlocks(text)}</div>;
}

type Block =
  | { kind: "code"; language: string; code: string }
  | { kind: "heading"; level: number; text: string }
  | { kind: "list"; ordered: boolean; start: number; items: string[] }
  | { kind: "quote"; text: string }
  | { kind: "paragraph"; text: string };

export function parseBlocks(text: string): Block[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? "";
    const fence = /^\s*(```|~~~)\s*([\w+-]*)/.exec(line);
    if (fence) {
      const marker = fence[1] ?? "```";
      const code: string[] = [];
      index += 1;
      while (index < lines.length && !(lines[index] ?? "").trim().startsWith(marker)) {
        code.push(lines[index] ?? "");
        index += 1;
      }
      index += 1;
      blocks.push({ kind: "code", language: fence[2] ?? "", code: code.join("\n") });
      continue;
    }
    if (line.trim() === "") {
      index += 1;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      blocks.push({ kind: "heading", level: heading[1]?.length ?? 1, text: heading[2] ?? "" });
      index += 1;
      continue;
    }
    const listMatch = /^\s*([-*+]|\d{1,9}[.)])\s+/.exec(line);
    if (listMatch) {
      const ordered = /\d/.test(listMatch[1] ?? "");
      const start = ordered ? Number.parseInt(listMatch[1] ?? "1", 10) : 1;
      const items: string[] = [];
      while (index < lines.length) {
        const current = lines[index] ?? "";
        const item = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(current);
        if (item && /\d/.test(item[1] ?? "") === ordered) items.push(item[2] ?? "");
        else if (current.trim() !== "" && /^\s{2,}/.test(current) && items.length > 0) items[items.length - 1] += ` ${current.trim()}`;
        else break;
        index += 1;
      }
      blocks.push({ kind: "list", ordered, start, items });
      continue;
    }
    if (line.startsWith(">")) {
      const quoted: string[] = [];
      while (index < lines.length && (lines[index] ?? "").startsWith(">")) {
        quoted.push((lines[index] ?? "").replace(/^>\s?/, ""));
        index += 1;
      }
      blocks.push({ kind: "quote", text: quoted.join("\n") });
      continue;
    }
    const paragraph: string[] = [];
    while (index < lines.length) {
      const current = lines[index] ?? "";
      if (current.trim() === "" || /^\s*(```|~~~)/.test(current) || /^#{1,6}\s/.test(current) || /^\s*([-*+]|\d{1,9}[.)])\s+/.test(current)) break;
      paragraph.push(current);
      index += 1;
    }
    blocks.push({ kind: "paragraph", text: paragraph.join("\n") });
  }
  return blocks;
}

function renderBlocks(text: string): ReactNode[] {
  return parseBlocks(text).map((block, index) => {
    switch (block.kind) {
      case "code":
        return (
          // Focusable: a long line scrolls sideways, and a keyboard must be able to scroll it too.
          <pre key={index} className="code-block" data-language={block.language || undefined} tabIndex={0}>
            <code>{block.code}</code>
          </pre>
        );
      case "heading": {
        const Tag = `h${Math.min(6, block.level + 2)}` as "h3";
        return <Tag key={index}>{renderInline(block.text)}</Tag>;
      }
      case "list":
        return block.ordered ? (
          <ol key={index} start={block.start}>
            {block.items.map((item, itemIndex) => (
              <li key={itemIndex}>{renderInline(item)}</li>
            ))}
          </ol>
        ) : (
          <ul key={index}>
            {block.items.map((item, itemIndex) => (
              <li key={itemIndex}>{renderInline(item)}</li>
            ))}
          </ul>
        );
      case "quote":
        return <blockquote key={index}>{renderBlocks(block.text)}</blockquote>;
      case "paragraph":
        return <p key={index}>{renderInline(block.text)}</p>;
    }
  });
}

const INLINE = /(`+)([\s\S]*?)\1|\*\*([\s\S]+?)\*\*|__([\s\S]+?)__|\*([^*\s][^*]*?)\*|\[([^\]]+)\]\(([^)\s]+)\)/g;

/** Inline spans; line breaks inside a paragraph are kept. */
export function renderInline(text: string): ReactNode[] {
  const nodes: ReactNode[] = [];
  let last = 0;
  let key = 0;
  for (const match of text.matchAll(INLINE)) {
    const at = match.index;
    if (at > last) nodes.push(...withBreaks(text.slice(last, at), key++));
    if (match[1] !== undefined) nodes.push(<code key={key++}>{match[2]}</code>);
    else if (match[3] !== undefined || match[4] !== undefined) nodes.push(<strong key={key++}>{renderInline(match[3] ?? match[4] ?? "")}</strong>);
    else if (match[5] !== undefined) nodes.push(<em key={key++}>{renderInline(match[5])}</em>);
    else if (match[6] !== undefined) nodes.push(link(match[6], match[7] ?? "", key++));
    last = at + match[0].length;
  }
  if (last < text.length) nodes.push(...withBreaks(text.slice(last), key++));
  return nodes;
}

function link(label: string, href: string, key: number): ReactNode {
  if (!/^(https?:|mailto:)/i.test(href)) return <Fragment key={key}>{`[${label}](${href})`}</Fragment>;
  return (
    <a key={key} href={href} target="_blank" rel="noopener noreferrer nofollow">
      {label}
    </a>
  );
}

function withBreaks(text: string, key: number): ReactNode[] {
  return text.split("\n").flatMap((part, index) => (index === 0 ? [part] : [<br key={`${key}-${index}`} />, part]));
}
