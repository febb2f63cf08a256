/**
 * Established TCP connections a process holds to a remote port, from /proc: the socket inodes of
 * its descriptors matched against /proc/net/tcp{,6}. The tenants phase counts the platform's
 * connections to the gateway with it (issue 17: at most 16 for 10,000 tenants).
 */
import { readdir, readFile, readlink } from "node:fs/promises";

const ESTABLISHED = "01";

/** The socket inodes among a process's open descriptors. */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const names = await readdir(`/proc/${pid}/fd`);
  await Promise.all(
    names.map(async (name) => {
      const target = await readlink(`/proc/${pid}/fd/${name}`).catch(() => "");
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    }),
  );
  return inodes;
}

/**
 * Established connections in a /proc/net/tcp table whose remote port is `port` and whose inode is
 * in `inodes`. Pure, for the tests: `table` is the file's text.
 */
export function countConnections(table: string, port: number, inodes: ReadonlySet<string>): number {
  let count = 0;
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    const remote = fields[2];
    if (!remote || fields[3] !== ESTABLISHED || !inodes.has(fields[9] ?? "")) continue;
    if (Number.parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16) === port) count += 1;
  }
  return count;
}

/** Established TCP connections process `pid` holds to remote port `port` (IPv4 and IPv6). */
export async function connectionsTo(pid: number, port: number): Promise<number> {
  const inodes = await socketInodes(pid);
  let count = 0;
  for (const table of ["tcp", "tcp6"]) {
    const text = await readFile(`/proc/${pid}/net/${table}`, "utf8").catch(() => "");
    count += countConnections(text, port, inodes);
  }
  return count;
}
