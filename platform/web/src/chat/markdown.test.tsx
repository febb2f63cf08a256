import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown, parseBlocks } from "./markdown";

describe("markdown", () => {
  it("escapes HTML from the model", () => {
    const html = renderToStaticMarkup(<Markdown text={'<script>alert(1)</script> **<img src=x onerror=alert(1)>**'} />);
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;");
  });

  it("renders code fences, inline code, bold, lists and safe links only", () => {
    const html = renderToStaticMarkup(
      <Markdown text={"Use `npm start` **now**.\n\n```sh\nnpm test\n```\n\n- one\n- two\n\n[ok](https://example.com) [bad](javascript:alert(1))"} />,
    );
    expect(html).toContain("<code>npm start</code>");
    expect(html).toContain("<strong>now</strong>");
    expect(html).toContain('<pre class="code-block" data-language="sh" tabindex="0"><code>npm test</code></pre>');
    expect(html).toContain("<ul><li>one</li><li>two</li></ul>");
    expect(html).toContain('href="https://example.com"');
    expect(html).not.toContain('href="javascript');
  });

  it("shows an unterminated fence (a reply still streaming) as code", () => {
    expect(parseBlocks("Here:\n```ts\nconst a = 1;")).toEqual([
      { kind: "paragraph", text: "Here:" },
      { kind: "code", language: "ts", code: "const a = 1;" },
    ]);
  });
});
