import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ApprovalArguments } from "./approval-arguments";

describe("a tool call's arguments", () => {
  it("reads as one row per field: short text as is, long text folded to its start, structures as indented JSON", () => {
    const long = `# Minutes\n${"Everyone agreed. ".repeat(40)}`;
    const html = renderToStaticMarkup(<ApprovalArguments input={{ path: "notes/today.md", content: long, lines: [1, 2], overwrite: true }} truncated={false} />);
    expect(html).toContain('data-argument="path"');
    expect(html).toContain("notes/today.md");
    // The long text: its first line shown, the rest inside a fold with its length.
    expect(html).toMatch(/<details class="folded"><summary># Minutes… <span[^>]*>\(\d[\d,.]* characters\)<\/span><\/summary><pre class="code-block wrap"># Minutes\nEveryone agreed\./);
    expect(html).toContain("[\n  1,\n  2\n]");
    expect(html).toContain("<code>true</code>");
  });

  it("says when the arguments were cut short, and shows no fields then", () => {
    const html = renderToStaticMarkup(<ApprovalArguments input={'{"content":"xxxx'} truncated />);
    expect(html).toContain("first 8,000 characters");
    expect(html).toContain("{&quot;content&quot;:&quot;xxxx");
    expect(html).not.toContain("data-argument");
  });
});
