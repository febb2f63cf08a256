/**
 * `npm run build` (also run by `npm install` as `prepare`): bundles the services and creates the
 * embedded database template. `npm start` does the same for whatever is out of date, so this is
 * only needed ahead of time (images, CI caches); `--force` rebuilds everything.
 */
import { ensureBuilt } from "./lib/build";

const force = process.argv.includes("--force");
const started = Date.now();
ensureBuilt({ log: (line) => process.stdout.write(`build: ${line}\n`), pgliteTemplate: true, force }).then(
  (built) => {
    process.stdout.write(built.length ? `build: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n` : "build: everything is up to date\n");
  },
  (error: unknown) => {
    process.stderr.write(`build failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
