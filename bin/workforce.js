#!/usr/bin/env node
// Launcher for the `workforce` bin (npx workforce doctor): the operator CLI from source through
// tsx in a checkout, or its bundle (platform/dist/workforce-cli.js) where tsx is not installed.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const source = new URL("../platform/src/cli/workforce-cli.ts", import.meta.url);
const bundle = new URL("../platform/dist/workforce-cli.js", import.meta.url);

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve("tsx/esm/api");
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && hasTsx()) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  process.stderr.write("workforce: neither the CLI's source with tsx nor its bundle (npm run build) is here\n");
  process.exitCode = 1;
}
