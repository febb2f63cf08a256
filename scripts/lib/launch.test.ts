import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { repoRoot } from "./build";

/**
 * scripts/launch.js (`npm start`) in a scratch copy of the repository's layout, with a stand-in
 * launcher bundle and source that each say who ran: the bundle runs only when its manifest says
 * it is up to date, and anything else falls back to the source through tsx, never to a failed start.
 */
let root: string;
const inputs = ["package-lock.json", "scripts/lib/build.ts", "scripts/start.ts"];

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "wf-launch-"));
  await mkdir(path.join(root, "scripts", "dist"), { recursive: true });
  await mkdir(path.join(root, "scripts", "lib"), { recursive: true });
  await copyFile(path.join(repoRoot, "scripts", "launch.js"), path.join(root, "scripts", "launch.js"));
  await writeFile(path.join(root, "package.json"), '{ "type": "module" }\n');
  await symlink(path.join(repoRoot, "node_modules"), path.join(root, "node_modules"));
  await writeFile(path.join(root, "package-lock.json"), "{}\n");
  await writeFile(path.join(root, "scripts", "lib", "build.ts"), "export {};\n");
  // Type syntax on purpose: only tsx can run this file.
  await writeFile(path.join(root, "scripts", "start.ts"), 'const who: string = "source";\nprocess.stdout.write(who);\n');
  await writeFile(path.join(root, "scripts", "dist", "start.js"), 'process.stdout.write("bundle");\n');
  await writeManifest({ startedAt: Date.now() + 1_000, inputs });
  // Every input older than the build.
  const past = new Date(Date.now() - 60_000);
  for (const input of inputs) await utimes(path.join(root, input), past, past);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function writeManifest(manifest: unknown): Promise<void> {
  return writeFile(path.join(root, "scripts", "dist", "start.build.json"), JSON.stringify(manifest));
}

function launch(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(root, "scripts", "launch.js")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("npm start's launcher entry (scripts/launch.js)", { timeout: 60_000 }, () => {
  it("runs the launcher's bundle when its manifest says it is up to date", async () => {
    expect(await launch()).toMatchObject({ code: 0, stdout: "bundle" });
  });

  it("runs the source when a source changed after the bundle was built", async () => {
    const future = new Date(Date.now() + 5_000);
    await utimes(path.join(root, "scripts", "start.ts"), future, future);
    expect(await launch()).toMatchObject({ code: 0, stdout: "source" });
  });

  it("runs the source when the bundle, its manifest or an input is missing, or the manifest is damaged", async () => {
    await rm(path.join(root, "scripts", "dist", "start.js"));
    expect(await launch()).toMatchObject({ code: 0, stdout: "source" });
    await writeFile(path.join(root, "scripts", "dist", "start.js"), 'process.stdout.write("bundle");\n');

    await writeFile(path.join(root, "scripts", "dist", "start.build.json"), '{"startedAt": 17');
    expect(await launch()).toMatchObject({ code: 0, stdout: "source" });

    await writeManifest({ startedAt: Date.now() + 1_000, inputs: [...inputs, "scripts/gone.ts"] });
    expect(await launch()).toMatchObject({ code: 0, stdout: "source" });

    // A manifest from before the shared inputs were recorded in it.
    await writeManifest({ startedAt: Date.now() + 1_000, inputs: ["scripts/start.ts"] });
    expect(await launch()).toMatchObject({ code: 0, stdout: "source" });

    await rm(path.join(root, "scripts", "dist", "start.build.json"));
    expect(await launch()).toMatchObject({ code: 0, stdout: "source" });
  });
});
