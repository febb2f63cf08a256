import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { repoRoot } from "./services";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
  commit: string;
  dirty: number;
  disk: string;
  /** 1-minute load average when the run started (other work on the machine skews every figure). */
  loadAverage: number;
  /** …and when it ended (filled in at the end). */
  loadAverageEnd?: number;
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

/** The file system holding the OS temp dir (where the bench keeps TENANT_DATA_DIR). */
function diskOf(dir: string): string {
  try {
    const mounts = readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((line) => line.split(" "))
      .filter((fields) => fields.length > 2 && dir.startsWith(fields[1] ?? "\0"))
      .sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0));
    const mount = mounts[0];
    return mount ? `${mount[2]} on ${mount[0]} (mounted at ${mount[1]})` : "unknown";
  } catch {
    return "unknown";
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    commit: process.env.BENCH_COMMIT ?? (git(["rev-parse", "--short", "HEAD"]) || "unknown"),
    dirty: process.env.BENCH_COMMIT ? 0 : git(["status", "--porcelain", "--untracked-files=no"]).split("\n").filter(Boolean).length,
    disk: diskOf(os.tmpdir()),
    loadAverage: os.loadavg()[0] ?? 0,
  };
}
