import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { PLATFORM_ENV_HELP } from "./config-help";

const README = new URL("../../README.md", import.meta.url);

describe("the platform's variables", () => {
  it("are all in the README's configuration table, as --help lists them", async () => {
    const readme = await readFile(README, "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Running with Claude"));
    const missing = PLATFORM_ENV_HELP.map((entry) => entry.name).filter((name) => !table.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("are every variable the configuration reads", async () => {
    const source = await readFile(new URL("./config.ts", import.meta.url), "utf8");
    const readers = await Promise.all(
      ["./mail/mail-config.ts", "./secrets/secret-key-config.ts", "./http/client-address.ts"].map((file) => readFile(new URL(file, import.meta.url), "utf8")),
    );
    const named = new Set([...source.matchAll(/^\s{2}([A-Z][A-Z0-9_]+): /gm), ...readers.flatMap((text) => [...text.matchAll(/\b(?:env|values)\.([A-Z][A-Z0-9_]+)\b|^\s{2}([A-Z][A-Z0-9_]+): "/gm)])].map((match) => match[1] ?? match[2]!));
    const documented = new Set(PLATFORM_ENV_HELP.map((entry) => entry.name));
    expect([...named].filter((name) => !documented.has(name))).toEqual([]);
  });
});
