import { AppError } from "@workforce/protocol";
import { errnoCode } from "../fs/errno";
import { storageError } from "../fs/storage-error";

/**
 * A file-system failure inside the workspace, told the way the model (and whoever reads the
 * transcript) should see it: in terms of the path the model asked for, relative to the workspace,
 * never the absolute path or errno text Node puts in its messages. Undefined when the failure is
 * not a file-system one the model can act on (the caller logs it and answers generically).
 */
export function workspaceError(error: unknown, requested: string | undefined): AppError | undefined {
  if (error instanceof AppError) return error;
  const name = requested?.trim() ? requested.trim() : "the workspace root";
  switch (errnoCode(error)) {
    case "ENOENT":
      return new AppError("not_found", `No file or folder named ${name} in the workspace`);
    case "ENOTDIR":
      return new AppError("invalid_path", `${name}: part of this path is a file, not a folder`);
    case "EISDIR":
      return new AppError("invalid_path", `${name} is a folder, not a file`);
    case "ENAMETOOLONG":
      return new AppError("invalid_path", `${name}: a name in this path is too long`);
    case "ELOOP":
      return new AppError("invalid_path", `${name} goes through too many symbolic links`);
    case "EEXIST":
      return new AppError("conflict", `${name} already exists as something else`);
    default: {
      const storage = storageError(error);
      if (!storage) return undefined;
      // The operator's wording (TENANT_DATA_DIR, permissions) means nothing to a model; say what it can act on.
      const told: Record<string, string> = {
        storage_read_only: "The workspace is read-only right now; files can be read but not written",
        storage_full: "The disk holding the workspace is full; nothing more can be written",
        storage_unavailable: "The workspace cannot be written right now (a storage problem the operator has to fix)",
      };
      return new AppError(storage.code, told[storage.code] ?? storage.message, { cause: error });
    }
  }
}

/** Runs a tool's file work, turning file-system failures into `workspaceError`s about `requested`. */
export async function inWorkspace<T>(requested: string | undefined, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    throw workspaceError(error, requested) ?? error;
  }
}
