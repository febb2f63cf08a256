import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { highlight } from "./highlight";
import { MarkdownRenderer as Markdown, safeUrl } from "./markdown-renderer";

const html = (text: string) => renderToStaticMarkup(<Markdown text={text} />);

describe("markdown", () => {
  it("shows HTML from the model as text, never as elements", () => {
    const out = html('<script>alert(1)</script> **<img src=x onerror=alert(1)>** <a href="javascript:alert(1)">x</a>');
    expect(out).not.toContain("<script");
    expect(out).not.toContain("<img");
    expect(out).not.toContain("<a href");
    expect(out).toContain("<p>&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html("Wrap it in a <div> first.")).toContain("<p>Wrap it in a &lt;div&gt; first.</p>");
  });

  it("renders inline code, bold, lists, code fences with their language and a copy button", () => {
    const out = html("Use `npm start` **now**.\n\n```sh\nnpm test\n```\n\n- one\n- two");
    expect(out).toContain("<code>npm start</code>");
    expect(out).toContain("<strong>now</strong>");
    expect(out).toMatch(/<pre class="code-block" tabindex="0" data-language="sh"><code class="hljs language-sh">npm test<\/code><\/pre>/);
    expect(out).toContain(">Copy code</button>");
    expect(out).toMatch(/<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
  });

  it("renders GFM: tables, task lists, strikethrough and autolinks", () => {
    const out = html("| Plan | Tokens |\n| --- | ---: |\n| Free | 1,000 |\n\n- [x] shipped\n- [ ] tested\n\n~~old~~ see https://example.com/docs");
    expect(out).toContain('<div class="table-scroll" tabindex="0"><table>');
    expect(out).toMatch(/<th>Plan<\/th>/);
    expect(out).toMatch(/<td[^>]*>1,000<\/td>/);
    expect(out).toContain('<input type="checkbox" disabled="" aria-label="Done" checked=""/> shipped');
    expect(out).toContain('<input type="checkbox" disabled="" aria-label="Not done"/> tested');
    expect(out).toContain("<del>old</del>");
    expect(out).toContain('<a href="https://example.com/docs" target="_blank" rel="noopener noreferrer nofollow">https://example.com/docs</a>');
  });

  it("keeps links to http, https and mailto only, and shows images as links", () => {
    const out = html("[ok](https://example.com) [mail](mailto:a@example.com) [bad](javascript:alert(1)) [data](data:text/html,x) [rel](/admin) ![chart](https://example.com/c.png)");
    expect(out).toContain('href="https://example.com"');
    expect(out).toContain('href="mailto:a@example.com"');
    expect(out).not.toMatch(/href="(javascript|data|\/admin)/);
    expect(out).toContain("<span>bad</span>");
    expect(out).not.toContain("<img");
    expect(out).toContain('<a href="https://example.com/c.png" target="_blank" rel="noopener noreferrer nofollow">chart</a>');
    expect(safeUrl(" JavaScript:alert(1)")).toBe("");
    expect(safeUrl("HTTPS://example.com")).toBe("HTTPS://example.com");
  });

  it("shows an unterminated fence (a reply still streaming) as code so far", () => {
    const out = html("Here:\n\n```ts\nconst a = 1;\nconst b");
    expect(out).toContain("<p>Here:</p>");
    expect(out).toContain('<code class="hljs language-ts">const a = 1;\nconst b</code>');
  });

  it("puts a reply's headings under the page's own", () => {
    expect(html("# Title\n\n## Part")).toBe('<div class="markdown"><h3>Title</h3>\n<h4>Part</h4></div>');
  });
});

describe("highlight", () => {
  it("marks up a named language as elements, and leaves unknown or unnamed ones alone", () => {
    const out = renderToStaticMarkup(<>{highlight('const greeting = "hi"; // <b>', "ts")}</>);
    expect(out).toContain('<span class="hljs-keyword">const</span>');
    expect(out).toContain('<span class="hljs-string">&quot;hi&quot;</span>');
    expect(out).toContain("&lt;b&gt;");
    expect(highlight("x", "")).toBeUndefined();
    expect(highlight("x", "no-such-language")).toBeUndefined();
  });
});
