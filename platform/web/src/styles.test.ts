import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * The stylesheet has no accidental nesting: a rule left without its closing brace turns every
 * rule after it into a nested one that matches nothing, which no build step reports (two merges
 * did that, and the approvals' and webhooks' styles silently stopped applying).
 */
describe("styles.css", () => {
  it("closes every rule, and nests rules only inside at-rules", () => {
    // Comments blanked out, newlines kept, so line numbers stay right.
    const css = readFileSync(new URL("./styles.css", import.meta.url), "utf8").replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " "));
    const open: { selector: string; line: number }[] = [];
    const nested: string[] = [];
    let line = 1;
    let start = 0;
    for (let at = 0; at < css.length; at += 1) {
      const char = css[at];
      if (char === "\n") line += 1;
      else if (char === "{") {
        const selector = css.slice(start, at).trim();
        const parent = open.at(-1);
        if (parent && !parent.selector.startsWith("@")) nested.push(`line ${line}: "${selector}" inside "${parent.selector}" (line ${parent.line})`);
        open.push({ selector, line });
        start = at + 1;
      } else if (char === "}") {
        open.pop();
        start = at + 1;
      } else if (char === ";") start = at + 1;
    }
    expect(nested).toEqual([]);
    expect(open.map((rule) => `"${rule.selector}" (line ${rule.line}) is never closed`)).toEqual([]);
  });
});
