/**
 * One of several processes racing for one lock file (file-lock.test.ts). Inside the lock it
 * records itself in `<lock>.holder` with O_EXCL; finding a live process's record there means two
 * holders at once, and it exits 2. With `dieInRound` it exits in that round while holding the
 * lock, as a crash would, leaving its lock for the others to take over.
 * Usage: node --import tsx lock-race-worker.ts <lockPath> <ownerDir> <rounds> <dieInRound|-1>
 */
import { constants, openSync, readFileSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { createFileLocks } from "../fs/file-lock";
import { processAlive } from "../fs/lock-owner";
import { createConsoleLogger } from "../logger";

const [lockPath, ownerDir, rounds, dieInRound] = process.argv.slice(2);
if (!lockPath || !ownerDir || !rounds || !dieInRound) throw new Error("usage: lock-race-worker <lockPath> <ownerDir> <rounds> <dieInRound|-1>");
const locks = createFileLocks({ logger: createConsoleLogger(`[lock-race ${process.pid}]`), ownerDir, timeoutMs: 20_000 });
const holderFile = `${lockPath}.holder`;

function enter(): void {
  for (;;) {
    try {
      const fd = openSync(holderFile, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const other = Number(readFileSync(holderFile, "utf8"));
    if (processAlive(other)) {
      console.error(`two holders at once: ${process.pid} and ${other}`);
      process.exit(2);
    }
    unlinkSync(holderFile); // a holder that died inside the lock
  }
}

for (let round = 0; round < Number(rounds); round += 1) {
  await locks.run(lockPath, async () => {
    enter();
    if (round === Number(dieInRound)) process.exit(0);
    for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    unlinkSync(holderFile);
  });
}
locks.close();
