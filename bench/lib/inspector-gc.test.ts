import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collectGarbage, INSPECT_ON_SIGNAL } from "./inspector-gc";
import { sleep, spawnService, type ChildService } from "./services";

/**
 * A child without --expose-gc holds a WeakRef to an object nothing else references, and says on
 * SIGUSR2 whether it is still there. Only a garbage collection clears it; the child allocates
 * nothing after start-up, so none happens by itself.
 */
const CHILD = `
const ref = new WeakRef({ payload: "x".repeat(1_000_000) });
process.on("SIGUSR2", () => process.stdout.write(ref.deref() === undefined ? "collected\\n" : "alive\\n"));
process.stdout.write("ready\\n");
setInterval(() => {}, 1_000);
`;

describe("a full GC in a running service, through the inspector", () => {
  let service: ChildService | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await service?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const answer = async (child: ChildService, previous: number) => {
    child.child.kill("SIGUSR2");
    for (let waited = 0; waited < 5_000; waited += 20) {
      const lines = child.output().split("\n").filter((line) => line === "alive" || line === "collected");
      if (lines.length > previous) return lines.at(-1);
      await sleep(20);
    }
    throw new Error(`no answer:\n${child.output()}`);
  };

  it("collects what the service no longer references, and can do it again", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "wf-gc-"));
    const script = path.join(dir, "subject.cjs");
    await writeFile(script, CHILD);
    service = spawnService("gc-subject", script, [], { env: { PATH: process.env.PATH }, nodeFlags: [INSPECT_ON_SIGNAL] });
    for (let waited = 0; !service.output().includes("ready") && waited < 10_000; waited += 20) await sleep(20);
    await collectGarbage(service);
    expect(await answer(service, 0)).toBe("collected");
    // A second call reuses the open inspector.
    await collectGarbage(service);
  });
});
