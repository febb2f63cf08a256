import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseCliOptions } from "./cli-options";

describe("parseCliOptions", () => {
  it("maps flags onto server options", () => {
    expect(parseCliOptions(["--port", "0", "--tokens", "20", "--delay-ms", "5", "--any-key"])).toEqual({
      kind: "start",
      options: { port: 0, host: "127.0.0.1", tokens: 20, tokenDelayMs: 5, text: undefined, apiKey: null, recordRequests: false },
    });
  });

  it("names the bad flag", () => {
    expect(() => parseCliOptions(["--tokens", "zero"])).toThrow(/--tokens/);
    expect(() => parseCliOptions(["--bogus"])).toThrow(/bogus/);
  });
});

describe("cli", () => {
  it("prints its URL and serves requests until SIGTERM", async () => {
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", cli, "--port", "0", "--text", "bench reply"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const [chunk] = (await once(child.stdout, "data")) as [Buffer];
      const url = chunk.toString().split("\n")[0]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer test-key", "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(await response.json()).toMatchObject({ choices: [{ message: { content: "bench reply" } }] });
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
  });
});
