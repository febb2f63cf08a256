import type { CliContext } from "../../cli/cli-command";

export interface Progress {
  /** A step under way (files so far, bytes so far). */
  update(phase: string, counts: { files?: number; bytes?: number }): void;
  /** A step done, or the end: always printed. */
  done(phase: string, details: Record<string, unknown>): void;
}

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/**
 * On a terminal, one line rewritten in place (stderr) and a plain sentence per finished step; in a
 * pipe or a cron job, one JSON object a line on stdout, for logs and alerting.
 */
export function createProgress(context: CliContext, write: (text: string) => void): Progress {
  if (!context.isTty) {
    return {
      update: (phase, counts) => context.out(JSON.stringify({ event: "progress", phase, ...counts })),
      done: (phase, details) => context.out(JSON.stringify({ event: "done", phase, ...details })),
    };
  }
  let last = 0;
  return {
    update(phase, counts) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      write(`\r${phase}: ${counts.files ?? 0} files, ${megabytes(counts.bytes ?? 0)}   `);
    },
    done(phase, details) {
      write("\r\x1b[K");
      const parts = Object.entries(details).map(([key, value]) => `${key} ${typeof value === "number" && key.endsWith("bytes") ? megabytes(value) : String(value)}`);
      context.out(`✓ ${phase}${parts.length ? `: ${parts.join(", ")}` : ""}`);
    },
  };
}
