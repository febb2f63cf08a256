import { randomBytes } from "node:crypto";
import os from "node:os";

/**
 * This process's identity in the cluster: `${hostname}-${pid}-${random6}`. Unique per process
 * start (a restarted gateway, even with the same pid in a fresh container, is a new member), and
 * readable in logs and in `GET /v1/cluster/members`: which machine, which process.
 */
export function newMemberId(hostname = os.hostname(), pid = process.pid): string {
  const host = hostname.replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 100) || "host";
  return `${host}-${pid}-${randomBytes(3).toString("hex")}`;
}
