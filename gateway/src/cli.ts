import { createConsoleLogger } from "./logger";
import { main } from "./main";

/** Entry point of `gateway` (bin/gateway.js and `npm run gateway`). */
const code = await main(process.argv.slice(2), process.env, createConsoleLogger());
process.exitCode = code;
// Give stdio a moment to drain, then make sure a stray handle cannot keep a stopped gateway alive.
setTimeout(() => process.exit(code), 2_000).unref();
