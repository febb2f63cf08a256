#!/usr/bin/env node
// Launcher for the `gateway` bin: the gateway is TypeScript run through tsx, no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
