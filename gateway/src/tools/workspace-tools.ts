import { appendFile, lstat, open, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { AppError } from "@workforce/protocol";
import { z } from "zod";
import { writeFileAtomic } from "../fs/atomic-write";
import { fileBytes } from "../fs/disk-bytes";
import { makeDirectory } from "../fs/storage-error";
import { defineTool } from "./define-tool";
import type { Tool, ToolContext } from "./tool";
import { inWorkspace } from "./workspace-error";
import { resolveWorkspacePath } from "./workspace-path";

export const TOOL_LIMITS = {
  readBytes: 64 * 1024,
  writeBytes: 256 * 1024,
  memoryNoteChars: 4_000,
  memoryFileBytes: 512 * 1024,
  listEntries: 500,
  searchMatches: 100,
  searchFileBytes: 1024 * 1024,
  searchFiles: 2_000,
};

/** Files the gateway rewrites from the agent definition; edits there would be lost, so tools may not write them. */
const MANAGED_FILES = new Set(["IDENTITY.md", "SOUL.md", "AGENTS.md"]);

const relativePath = z.string().min(1).max(1024).describe("path relative to your workspace, e.g. notes/todo.md");

const readFileTool = defineTool({
  name: "read_file",
  description: "Read a UTF-8 text file from your workspace.",
  input: z.object({ path: relativePath }),
  run: (input, context) =>
    inWorkspace(input.path, async () => {
      const file = await resolveWorkspacePath(context, input.path);
      const handle = await open(file, "r");
      try {
        const { size } = await handle.stat();
        const buffer = Buffer.alloc(Math.min(size, TOOL_LIMITS.readBytes));
        await handle.read(buffer, 0, buffer.length, 0);
        const text = buffer.toString("utf8");
        return size > TOOL_LIMITS.readBytes ? `${text}\n[truncated: the file has ${size} bytes, only the first ${TOOL_LIMITS.readBytes} are shown]` : text;
      } finally {
        await handle.close();
      }
    }),
});

const writeFileTool = defineTool({
  name: "write_file",
  description: "Create or replace a UTF-8 text file in your workspace (parent folders are created).",
  input: z.object({ path: relativePath, content: z.string() }),
  run: (input, context) =>
    inWorkspace(input.path, async () => {
      const bytes = Buffer.byteLength(input.content);
      if (bytes > TOOL_LIMITS.writeBytes) throw new AppError("payload_too_large", `content is larger than ${TOOL_LIMITS.writeBytes} bytes`);
      const file = await resolveWorkspacePath(context, input.path);
      const relative = path.relative(await resolveWorkspacePath(context, "."), file);
      if (MANAGED_FILES.has(relative)) throw new AppError("forbidden", `${relative} is managed by the platform; change the agent's settings instead`);
      // Before anything is created: a refused write leaves the workspace as it was.
      const growth = bytes - (await fileBytes(file));
      await context.disk?.assertRoom(growth);
      // Not mkdir -p: that answers ENOENT on a read-only or full disk, which would tell the model "no such file".
      await makeDirectory(path.dirname(file));
      // Re-check after mkdir: a directory created just now must not be a planted symlink either.
      const checked = await resolveWorkspacePath(context, input.path);
      await writeFileAtomic(checked, input.content);
      context.disk?.changed(growth);
      return `wrote ${Buffer.byteLength(input.content)} bytes to ${relative}`;
    }),
});

const listFilesTool = defineTool({
  name: "list_files",
  description: "List the files and folders in a folder of your workspace (default: the workspace root). Folders end with '/'.",
  input: z.object({ path: relativePath.optional() }),
  run: (input, context) =>
    inWorkspace(input.path, async () => {
      const dir = await resolveWorkspacePath(context, input.path);
      const entries = await readdir(dir, { withFileTypes: true });
      const names = entries
        .filter((entry) => !entry.name.startsWith(".") && !entry.isSymbolicLink())
        .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
        .sort();
      const shown = names.slice(0, TOOL_LIMITS.listEntries);
      return shown.length === 0 ? "(empty)" : shown.join("\n") + (names.length > shown.length ? `\n[${names.length - shown.length} more]` : "");
    }),
});

const searchFilesTool = defineTool({
  name: "search_files",
  description: "Search the text files of your workspace for a phrase (case-insensitive); returns path:line: text.",
  input: z.object({ query: z.string().min(1).max(200), path: relativePath.optional() }),
  run: (input, context) => inWorkspace(input.path, () => searchFiles(input, context)),
});

async function searchFiles(input: { query: string; path?: string | undefined }, context: ToolContext): Promise<string> {
  const root = await resolveWorkspacePath(context, ".");
  const start = await resolveWorkspacePath(context, input.path);
  const needle = input.query.toLowerCase();
  const matches: string[] = [];
  let visited = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (matches.length >= TOOL_LIMITS.searchMatches || visited >= TOOL_LIMITS.searchFiles) return;
      if (entry.name.startsWith(".") || entry.isSymbolicLink()) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        visited += 1;
        if ((await stat(full)).size > TOOL_LIMITS.searchFileBytes) continue;
        const lines = (await readFile(full, "utf8")).split("\n");
        lines.forEach((line, index) => {
          if (matches.length < TOOL_LIMITS.searchMatches && line.toLowerCase().includes(needle)) {
            matches.push(`${path.relative(root, full)}:${index + 1}: ${line.slice(0, 300)}`);
          }
        });
      }
    }
  };
  const info = await lstat(start);
  if (info.isDirectory()) await walk(start);
  else throw new AppError("invalid_path", "search_files needs a folder");
  return matches.length === 0 ? `no matches for "${input.query}"` : matches.join("\n");
}

const appendMemoryTool = defineTool({
  name: "append_memory",
  description: "Append a note to your MEMORY.md so you remember it in future conversations.",
  input: z.object({ note: z.string().trim().min(1).max(TOOL_LIMITS.memoryNoteChars) }),
  run: (input, context) =>
    inWorkspace("MEMORY.md", async () => {
      const file = await resolveWorkspacePath(context, "MEMORY.md");
      const size = await stat(file).then((info) => info.size, () => 0);
      if (size > TOOL_LIMITS.memoryFileBytes) throw new AppError("storage_full", "MEMORY.md is full; rewrite it shorter with write_file first");
      const line = `- ${input.note.replace(/\s*\n\s*/g, " ")}\n`;
      await context.disk?.assertRoom(Buffer.byteLength(line));
      await appendFile(file, line, { mode: 0o600 });
      context.disk?.changed(Buffer.byteLength(line));
      return "noted in MEMORY.md";
    }),
});

/** The workspace tools every agent gets. */
export function createWorkspaceTools(): Tool[] {
  return [readFileTool, writeFileTool, listFilesTool, searchFilesTool, appendMemoryTool];
}
