/** A change waiting for the next group commit. */
interface PendingChange<Line> {
  /** Runs inside the commit; `record` applies a line and queues it for writing. */
  change: (record: (line: Line) => void) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions<Line> {
  /** Runs one commit exclusively (under the registry's lock or lease, caught up with other processes). */
  exclusive(task: () => Promise<void>): Promise<void>;
  /** Applies a recorded line in memory. */
  apply(line: Line): void;
  /** Makes the lines of one commit durable; throwing fails every change of the group. */
  persist(lines: readonly Line[]): Promise<void>;
  /** A group failed after changing memory: the caller reloads before trusting it again. */
  failed(): void;
}

/**
 * Group commit: changes that arrive while a commit is writing wait and then go together, in one
 * exclusive section and one write. Each change sees the ones before it; a failing change fails
 * alone, a failing write fails the whole group.
 */
export class GroupCommit<Line> {
  private pending: PendingChange<Line>[] = [];
  private committing = false;

  constructor(private readonly options: GroupCommitOptions<Line>) {}

  /** Resolves with what `change` returned once its lines are durable. */
  commit<T>(change: (record: (line: Line) => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ change, resolve: resolve as (value: unknown) => void, reject });
      if (!this.committing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.committing = true;
    try {
      while (this.pending.length > 0) await this.commitGroup(this.pending.splice(0));
    } finally {
      this.committing = false;
    }
  }

  private async commitGroup(group: readonly PendingChange<Line>[]): Promise<void> {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const lines: Line[] = [];
    const record = (line: Line) => {
      this.options.apply(line);
      lines.push(line);
    };
    try {
      await this.options.exclusive(async () => {
        for (const item of group) {
          try {
            outcomes.push({ ok: true, value: await item.change(record) });
          } catch (error) {
            outcomes.push({ ok: false, value: error });
          }
        }
        await this.options.persist(lines);
      });
    } catch (error) {
      if (lines.length > 0) this.options.failed();
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) item.resolve(outcome.value);
      else item.reject(outcome?.value);
    });
  }
}
