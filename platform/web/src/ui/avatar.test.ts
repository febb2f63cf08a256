import { describe, expect, it } from "vitest";
import { initials } from "./avatar";

describe("initials", () => {
  it("takes the first letters of the first two words, upper-cased", () => {
    expect([initials("Ada Lovelace"), initials("ada"), initials("grace-hopper"), initials("  Émile  zola  the third")]).toEqual(["AL", "A", "GH", "ÉZ"]);
  });

  it("never answers an empty avatar", () => {
    expect(initials("   ")).toBe("?");
  });
});
