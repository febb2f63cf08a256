import { z } from "zod";

// Zod compiles object parsers with `new Function` unless told not to, and decides so when each
// object schema is built. The platform's Content-Security-Policy (script-src 'self', no
// 'unsafe-eval') refuses that, and Chromium reports a violation even though zod catches the error
// and falls back. So the web build resolves every `import … from "zod"` to this module (see
// vite.config.ts): zod is configured before any module that builds a schema runs, whatever order
// the bundler gives its chunks. (An import of this file first in main.tsx was not enough: the
// shared schemas landed in a chunk evaluated before the entry's own modules.)
z.config({ jitless: true });

export * from "zod";
export { z as default } from "zod";
