import { describe, expect, it } from "vitest";
import { orgVersionCache } from "./org-cache.ts";

describe("orgVersionCache", () => {
  it("loads once per org and version, keeps the newest for older versions, and loads again for a newer one", async () => {
    const cached = orgVersionCache<string>();
    let loads = 0;
    const load = (value: string) => () => (loads++, Promise.resolve(value));
    expect(await cached("org_a", 2, load("v2"))).toBe("v2");
    expect(await cached("org_a", 2, load("again"))).toBe("v2");
    expect(await cached("org_a", 1, load("older"))).toBe("v2");
    expect(await cached("org_b", 1, load("b1"))).toBe("b1");
    expect(await cached("org_a", 3, load("v3"))).toBe("v3");
    expect(loads).toBe(3);
  });

  it("does not keep a failed load", async () => {
    const cached = orgVersionCache<string>();
    await expect(cached("org_a", 1, () => Promise.reject(new Error("D1 down")))).rejects.toThrow("D1 down");
    expect(await cached("org_a", 1, () => Promise.resolve("loaded"))).toBe("loaded");
  });

  it("stays within its bound of orgs", async () => {
    const cached = orgVersionCache<number>(2);
    let loads = 0;
    for (const org of ["a", "b", "c", "a"]) await cached(org, 1, () => Promise.resolve(++loads));
    expect(loads).toBe(4);
  });
});
