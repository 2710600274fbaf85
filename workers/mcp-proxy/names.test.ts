import { describe, expect, it } from "vitest";
import { MAX_TOOL_NAME, prefixedName, unprefix } from "./names.ts";

describe("virtual-server tool names", () => {
  it("joins server and tool with a double underscore when that fits in 64 characters", () => {
    expect(prefixedName("github", "create_issue")).toBe("github__create_issue");
    const exact = "t".repeat(MAX_TOOL_NAME - "srv__".length);
    expect(prefixedName("srv", exact)).toBe(`srv__${exact}`);
    expect(prefixedName("srv", exact)).toHaveLength(64);
  });

  it("cuts a longer name to exactly 64 characters ending in a stable 8-hex-digit hash", () => {
    const tool = "x".repeat(80);
    const short = prefixedName("files", tool);
    expect(short).toHaveLength(MAX_TOOL_NAME);
    expect(short).toMatch(/^files__x+_[0-9a-f]{8}$/);
    expect(short.slice(0, 55)).toBe(`files__${tool}`.slice(0, 55));
    expect(prefixedName("files", tool)).toBe(short);
  });

  it("gives long names sharing their first 55 characters different exposed names", () => {
    const stem = "search_".repeat(10);
    const a = prefixedName("docs", `${stem}alpha`);
    const b = prefixedName("docs", `${stem}beta`);
    expect(a.slice(0, 55)).toBe(b.slice(0, 55));
    expect(a).not.toBe(b);
    expect(unprefix(a, ["docs"])).toEqual({ server: "docs", name: `${stem}alpha` });
    expect(unprefix(b, ["docs"])).toEqual({ server: "docs", name: `${stem}beta` });
  });

  it("routes an exposed name back to its server and upstream tool name", () => {
    expect(unprefix("github__create_issue", ["jira", "github"])).toEqual({ server: "github", name: "create_issue" });
    // A tool whose own name contains the separator keeps it.
    expect(unprefix("github__pr__merge", ["github"])).toEqual({ server: "github", name: "pr__merge" });
  });

  it("resolves nothing for a server outside the virtual server or a name without the prefix", () => {
    expect(unprefix("github__create_issue", ["jira"])).toBeNull();
    expect(unprefix("create_issue", ["github"])).toBeNull();
    expect(unprefix("github_create_issue", ["github"])).toBeNull();
    // Longer than 64 characters: never an exposed name, so never the long tool it spells out.
    expect(unprefix(`files__${"x".repeat(60)}`, ["files"])).toBeNull();
  });

  it("tells apart servers whose names share a prefix", () => {
    const servers = ["git", "github"];
    expect(unprefix(prefixedName("github", "list"), servers)).toEqual({ server: "github", name: "list" });
    expect(unprefix(prefixedName("git", "log"), servers)).toEqual({ server: "git", name: "log" });
  });
});
