import { randomBytes } from "node:crypto";
import { linkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

// Two `npm start` runs may begin at once (a developer's and a test's): files are written
// whole under a temporary name, then moved into place, so no reader sees half a file.

/** A sibling name, because link and rename are atomic only within one file system. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/** Creates `path` unless it exists. Returns false when another writer got there first. */
export function createFileOnce(path: string, content: string): boolean {
  const temp = tempPathFor(path);
  writeFileSync(temp, content, { mode: 0o600 });
  try {
    linkSync(temp, path); // unlike rename, link refuses to replace an existing file
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Replaces `path`: a concurrent reader sees either the old or the new content. */
export function replaceFile(path: string, content: string): void {
  const temp = tempPathFor(path);
  writeFileSync(temp, content, { mode: 0o600 });
  renameSync(temp, path);
}
