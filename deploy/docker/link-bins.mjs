#!/usr/bin/env node
/**
 * Puts the commands the packages declare (`bin` of the root package and of each workspace:
 * `workforce`, `gateway`) on the image's PATH, so `docker run <image> workforce doctor` works
 * without naming a file. Run by the Dockerfile as root; the target directory defaults to
 * /usr/local/bin. Usage: node deploy/docker/link-bins.mjs [appDir] [targetDir]
 */
import { chmodSync, existsSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";

const appDir = path.resolve(process.argv[2] ?? ".");
const targetDir = path.resolve(process.argv[3] ?? "/usr/local/bin");
const root = JSON.parse(readFileSync(path.join(appDir, "package.json"), "utf8"));
const packageDirs = [".", ...(root.workspaces ?? []).filter((workspace) => !workspace.includes("*"))];

for (const packageDir of packageDirs) {
  const manifest = path.join(appDir, packageDir, "package.json");
  if (!existsSync(manifest)) continue;
  const { bin } = JSON.parse(readFileSync(manifest, "utf8"));
  const entries = typeof bin === "string" ? [[path.basename(packageDir), bin]] : Object.entries(bin ?? {});
  for (const [name, file] of entries) {
    const target = path.join(appDir, packageDir, file);
    if (!existsSync(target)) throw new Error(`${manifest} declares the command ${name} as ${file}, which is not in the image`);
    chmodSync(target, 0o755);
    rmSync(path.join(targetDir, name), { force: true });
    symlinkSync(target, path.join(targetDir, name));
    process.stdout.write(`linked ${name} -> ${target}\n`);
  }
}
