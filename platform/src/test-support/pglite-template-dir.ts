import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root, for tests that spawn its entry points. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The template `npm run build` makes; without it each open runs initdb (slower, same outcome). */
export const BUILT_PGLITE_TEMPLATE = path.join(repoRoot, "platform", "dist", "pglite-template");
