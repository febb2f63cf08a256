/**
 * The README's screenshots match the screen list (e2e/web-screens.ts): each screen has its desktop
 * and phone picture in docs/screenshots/ and in the README, and no picture is left over from a
 * screen that is gone. No browser: a new screen fails here until its pictures are taken
 * (`WRITE_SCREENSHOTS=1 npx vitest run e2e/web-screens.test.ts`) and shown in the README.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./system";
import { SCREENS } from "./web-screens";

const folder = path.join(repoRoot, "docs", "screenshots");
const expected = SCREENS.flatMap((screen) => [`${screen.name}-desktop.png`, `${screen.name}-mobile.png`]);
const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
const shown = [...readme.matchAll(/docs\/screenshots\/([\w.-]+\.png)/g)].map((match) => match[1]!);

describe("the README's screenshots", () => {
  it("are there for every screen, on a desktop and a phone", () => {
    expect(expected.filter((file) => !existsSync(path.join(folder, file)))).toEqual([]);
    expect(expected.filter((file) => !shown.includes(file))).toEqual([]);
  });

  it("are only of screens that exist, and every picture the README shows is there", () => {
    expect(readdirSync(folder).filter((file) => !expected.includes(file))).toEqual([]);
    expect(shown.filter((file) => !expected.includes(file))).toEqual([]);
  });
});
