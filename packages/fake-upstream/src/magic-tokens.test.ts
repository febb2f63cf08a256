import { describe, expect, it } from "vitest";
import { parseMagicToken, stripMagicTokens } from "./magic-tokens";

describe("parseMagicToken", () => {
  it.each([
    ["please [[fault:429]]", { kind: "status", status: 429 }, undefined],
    ["[[fault:429:2.5]]", { kind: "status", status: 429, retryAfterSeconds: 2.5 }, undefined],
    ["[[fault:529*3]]", { kind: "status", status: 529 }, 3],
    ["[[fault:overloaded:4]]", { kind: "overloaded-mid-stream", afterTokens: 4 }, undefined],
    ["[[fault:reset]]", { kind: "reset-mid-stream", afterTokens: 1 }, undefined],
    ["[[fault:malformed:0]]", { kind: "malformed", afterTokens: 0 }, undefined],
    ["[[fault:stall:2]]", { kind: "stall", afterTokens: 2 }, undefined],
    ["[[fault:stall:2:500*1]]", { kind: "stall", afterTokens: 2, stallMs: 500 }, 1],
    ["[[tool:get_weather]]", { kind: "tool_use", name: "get_weather", input: {} }, undefined],
    ['[[tool:search:{"q":"a]]b","n":[1,[2]]}]]', { kind: "tool_use", name: "search", input: { q: "a]]b", n: [1, [2]] } }, undefined],
  ])("parses %s", (text, script, times) => {
    expect(parseMagicToken(text)).toEqual({ script, times });
  });

  it.each(["no token here", "[[fault:teapot]]", "[[fault:stall:x]]", "[[tool:x:{not json}]]", "[[tool:x:[1]]]"])("ignores %s", (text) => {
    expect(parseMagicToken(text)).toBeUndefined();
  });

  it("strips tokens from echoed text", () => {
    expect(stripMagicTokens("hello [[fault:429*1]] world")).toBe("hello world");
    expect(stripMagicTokens('[[tool:x:{"a":1}]] go')).toBe("go");
  });
});
