import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "./errors";
import { assertTenantId, checkRelativePath, ensureContained, tenantPaths } from "./tenant-path";

/**
 * Properties of the one tenant-path helper: whatever string comes in, a path it hands out stays
 * below the directory it belongs to, or the call throws the documented AppError code.
 * FAST_CHECK_SEED / FAST_CHECK_PATH replay a failure (fast-check prints both).
 */
const parameters = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Number(process.env.FAST_CHECK_RUNS) || numRuns,
  ...(process.env.FAST_CHECK_SEED ? { seed: Number(process.env.FAST_CHECK_SEED) } : {}),
  ...(process.env.FAST_CHECK_PATH ? { path: process.env.FAST_CHECK_PATH } : {}),
});
const DATA_DIR = "/srv/workforce-data";
const TENANT = "0f0e0d0c-0b0a-4909-8807-060504030201";
const PIECES = ["..", ".", "", "a", "notes", "%2e%2e", "%252e", "\u0000", "\\", "C:", "/", "\uff0e\uff0e", "\u2024", "\u2215", "\uff0f", "e\u0301", "\u0130", " ", "~", "x".repeat(300)];
/** Paths built from the pieces attackers use, plus arbitrary unicode. */
const hostilePath = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((pieces) => pieces.join("/")),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ unit: "binary", maxLength: 6 })), { maxLength: 6 }).map((pieces) => pieces.join("/")),
);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

describe("tenant-path properties", () => {
  it("checkRelativePath returns a normalised path below any root, or throws invalid_path", () => {
    fc.assert(
      fc.property(hostilePath, (input) => {
        let checked: string;
        try {
          checked = checkRelativePath(input);
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).code).toBe("invalid_path");
          return;
        }
        const root = "/root/workspace";
        const joined = path.join(root, checked);
        expect(joined.startsWith(`${root}/`)).toBe(true);
        expect(checked.split("/")).not.toContain("..");
        expect(path.posix.normalize(checked)).toBe(checked);
        // eslint-disable-next-line no-control-regex -- control characters are what must not get through
        expect(checked).not.toMatch(/[\\\u0000-\u001f\u007f]/);
        // Decision: only percent-ENCODED sequences (%XX) are refused, because some layer might
        // decode them into "/" or "..". A lone "%" or "%zz" is an ordinary file-name character
        // ("50% plan.md") and passes unchanged (FAST_CHECK_SEED=-2130162529 found "%" once).
        expect(checked).not.toMatch(/%[0-9a-f]{2}/i);
        // Not asserted: idempotence. "./C:" is accepted as "C:", which checkRelativePath itself
        // then rejects as a drive letter (harmless on POSIX; reported in issue 6).
      }),
      parameters(2_000),
    );
  });

  it("keeps a literal '%' in a file name but refuses percent-encoded sequences", () => {
    expect(checkRelativePath("%")).toBe("%");
    expect(checkRelativePath("plans/50% plan.md")).toBe("plans/50% plan.md");
    expect(checkRelativePath("100%zz")).toBe("100%zz");
    expect(codeOf(() => checkRelativePath("%2e%2e/secret"))).toBe("invalid_path");
    expect(codeOf(() => checkRelativePath("a%2Fb"))).toBe("invalid_path");
  });

  it("tenant ids are lowercase UUIDs naming exactly one directory below the data dir", () => {
    const candidates = fc.oneof(fc.uuid().map((id) => id.toLowerCase()), fc.uuid().map((id) => id.toUpperCase()), hostilePath, fc.uuid().map((id) => ` ${id}`));
    fc.assert(
      fc.property(candidates, (tenantId) => {
        const code = codeOf(() => tenantPaths(DATA_DIR, tenantId));
        if (code !== undefined) {
          expect(code).toBe("invalid_tenant_id");
          expect(codeOf(() => assertTenantId(tenantId))).toBe("invalid_tenant_id");
          return;
        }
        const paths = tenantPaths(DATA_DIR, tenantId);
        expect(path.dirname(paths.root)).toBe(DATA_DIR);
        expect(path.basename(paths.root)).toBe(tenantId);
        expect(tenantId).toBe(tenantId.toLowerCase());
      }),
      parameters(2_000),
    );
  });

  it("agent, transcript and workspace paths stay inside the tenant's own directories", () => {
    const slug = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,63}$/), hostilePath);
    const sessionId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/), hostilePath);
    fc.assert(
      fc.property(slug, sessionId, hostilePath, (agentSlug, session, file) => {
        const tenant = tenantPaths(DATA_DIR, TENANT);
        const slugCode = codeOf(() => tenant.agent(agentSlug));
        if (slugCode !== undefined) {
          expect(slugCode).toBe("invalid_slug");
          return;
        }
        const agent = tenant.agent(agentSlug);
        expect(path.dirname(agent.dir)).toBe(tenant.agentsDir);
        expect(path.dirname(agent.workspace)).toBe(tenant.workspaceDir);
        const sessionCode = codeOf(() => agent.transcript(session));
        if (sessionCode === undefined) {
          expect(path.dirname(agent.transcript(session))).toBe(agent.sessionsDir);
          expect(path.basename(agent.transcript(session))).toBe(`${session}.jsonl`);
        } else expect(sessionCode).toBe("invalid_session_key");
        const fileCode = codeOf(() => agent.workspaceFile(file));
        if (fileCode === undefined) expect(agent.workspaceFile(file).startsWith(`${agent.workspace}/`)).toBe(true);
        else expect(fileCode).toBe("invalid_path");
      }),
      parameters(2_000),
    );
  });

  describe("ensureContained on a real tree with planted symlinks", () => {
    let base: string;
    let root: string;
    beforeAll(async () => {
      base = await realpath(await mkdtemp(path.join(os.tmpdir(), "tenant-path-property-")));
      root = path.join(base, "root");
      await mkdir(path.join(root, "a", "b"), { recursive: true });
      await mkdir(path.join(base, "outside"));
      await writeFile(path.join(root, "a", "file.txt"), "inside");
      await writeFile(path.join(base, "outside", "secret.txt"), "outside");
      await symlink(path.join(root, "a"), path.join(root, "in-link"));
      await symlink(path.join(base, "outside"), path.join(root, "out-link"));
      await symlink("../../outside", path.join(root, "a", "rel-out"));
      await symlink("..", path.join(root, "a", "b", "up"));
      await symlink(path.join(base, "outside", "secret.txt"), path.join(root, "a", "file-out"));
    });
    afterAll(async () => {
      await rm(base, { recursive: true, force: true });
    });

    it("resolves inside the root's real path or throws path_escape", async () => {
      const names = ["a", "b", "file.txt", "in-link", "out-link", "rel-out", "up", "file-out", "secret.txt", "new", "..", "."];
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 6 }), async (segments) => {
          const target = path.join(root, ...segments);
          try {
            const resolved = await ensureContained(root, target);
            expect(resolved === root || resolved.startsWith(`${root}/`)).toBe(true);
          } catch (error) {
            // A file used as a directory ("file.txt/x") surfaces as the raw ENOTDIR, which is no escape.
            if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return;
            expect(error).toBeInstanceOf(AppError);
            expect((error as AppError).code).toBe("path_escape");
          }
        }),
        parameters(300),
      );
    });

    // Found by this suite: a dangling symlink used to pass as "a file not created yet" and an
    // append then created its target outside the root. ensureContained now follows the link.
    it("refuses a dangling symlink whose target is outside the root", async () => {
      await symlink(path.join(base, "outside", "not-yet.txt"), path.join(root, "dangling"));
      await expect(ensureContained(root, path.join(root, "dangling"))).rejects.toMatchObject({ code: "path_escape" });
    });
  });
});
