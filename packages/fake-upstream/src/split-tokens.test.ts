import { describe, expect, it } from "vitest";
import { splitTokens } from "./split-tokens";

describe("splitTokens", () => {
  it("splits on words by default, keeping whitespace with the following word", () => {
    expect(splitTokens("Hello  big world")).toEqual(["Hello", "  big", " world"]);
  });

  it("cuts into the requested number of near-equal pieces", () => {
    const pieces = splitTokens("abcdefghij", 3);
    expect(pieces).toEqual(["abc", "def", "ghij"]);
  });

  it("never asks for more pieces than characters and never splits a code point", () => {
    expect(splitTokens("h😀", 10)).toEqual(["h", "😀"]);
    expect(splitTokens("", 4)).toEqual([]);
  });
});
