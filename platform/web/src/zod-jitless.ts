import { z } from "zod";

// Zod compiles object parsers with `new Function` unless told not to. The platform's
// Content-Security-Policy (script-src 'self', no 'unsafe-eval') refuses that, and Chromium reports
// a violation even though zod catches the error and falls back. main.tsx imports this first.
z.config({ jitless: true });
