import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connectionsTo, countConnections } from "./connections";

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9C40 0100007F:4965 01 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 20 4 30 10 -1
   1: 0100007F:9C41 0100007F:4965 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9C42 0100007F:4965 06 00000000:00000000 00:00000000 00000000  1000        0 333 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:9C43 0100007F:0BB8 01 00000000:00000000 00:00000000 00000000  1000        0 444 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:9C44 0100007F:4965 01 00000000:00000000 00:00000000 00000000  1000        0 555 1 0000000000000000 20 4 30 10 -1`;

describe("connections to a port, from /proc", () => {
  it("counts only the process's established connections to that remote port", () => {
    // 0x4965 = 18789 (the gateway's port); 555 is another process's socket, 333 is in TIME_WAIT, 444 goes to port 3000.
    expect(countConnections(TABLE, 18789, new Set(["111", "222", "333", "444"]))).toBe(2);
    expect(countConnections(TABLE, 3000, new Set(["444"]))).toBe(1);
    expect(countConnections("", 18789, new Set(["111"]))).toBe(0);
  });

  describe("in this process", () => {
    const cleanup: (() => void)[] = [];
    afterEach(() => cleanup.splice(0).forEach((close) => close()));

    it("sees the connections this process opened to a local server", async () => {
      const server = net.createServer((socket) => cleanup.push(() => socket.destroy()));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      cleanup.push(() => server.close());
      const port = (server.address() as net.AddressInfo).port;
      expect(await connectionsTo(process.pid, port)).toBe(0);
      for (let index = 0; index < 3; index += 1) {
        const socket = net.connect(port, "127.0.0.1");
        cleanup.push(() => socket.destroy());
        await new Promise<void>((resolve) => socket.once("connect", resolve));
      }
      // The server's accepted ends are this process's too, but their remote port is the client's, not `port`.
      expect(await connectionsTo(process.pid, port)).toBe(3);
    });
  });
});
