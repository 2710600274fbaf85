import { describe, expect, it } from "vitest";
import { sha256Hex } from "./crypto.ts";
import { mintToken, parseToken } from "./tokens.ts";

describe("tokens", () => {
  it("mints a token that parses back to its kind and id, stores only its hash", async () => {
    const minted = await mintToken("api_key");
    expect(minted.token).toMatch(/^alk_key_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(minted.token)).toEqual({ kind: "api_key", id: minted.id });
    expect(minted.hash).toBe(await sha256Hex(minted.token));
    expect(minted.hint).not.toContain(minted.token.slice(8, -4));
  });

  it("mints SCIM tokens as alk_scim_…, a kind of their own", async () => {
    const minted = await mintToken("scim_token");
    expect(minted.token).toMatch(/^alk_scim_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(minted.token)).toEqual({ kind: "scim_token", id: minted.id });
  });

  it("mints a different secret every time", async () => {
    const [a, b] = await Promise.all([mintToken("admin_token"), mintToken("admin_token")]);
    expect(a.token).not.toBe(b.token);
    expect(a.token.startsWith("alk_adm_")).toBe(true);
  });

  it.each(["", "alk_key_short", "sk-ant-api03-abc", "alk_xyz_01JABCDEFGHJKMNPQRSTVWXYZ0_" + "a".repeat(43), "alk_key_01JABCDEFGHJKMNPQRSTVWXYZ0_" + "a".repeat(42)])(
    "refuses %j",
    (token) => expect(parseToken(token)).toBeNull(),
  );
});
