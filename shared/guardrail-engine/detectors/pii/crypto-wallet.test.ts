import { describe, expect, it } from "vitest";
import { base58CheckValid, cryptoWallet, eip55Valid, segwitAddressValid } from "./crypto-wallet.ts";
import { ADVERSARIAL, found, run } from "./test-utils.ts";

describe("crypto_wallet", () => {
  it("finds base58check Bitcoin addresses", () => {
    expect(found(cryptoWallet, "genesis 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa and 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")).toEqual([
      "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
      "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    ]);
    expect(base58CheckValid("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")).toBe(false);
  });

  it("finds bech32 and bech32m addresses (BIP-173, BIP-350 vectors)", () => {
    expect(segwitAddressValid("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")).toBe(true);
    expect(segwitAddressValid("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3")).toBe(true);
    expect(segwitAddressValid("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297")).toBe(true);
    // v0 program with a bech32m checksum, and a mixed-case address: both invalid.
    expect(segwitAddressValid("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh")).toBe(false);
    expect(segwitAddressValid("bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")).toBe(false);
    expect(found(cryptoWallet, "send to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")).toEqual(["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"]);
  });

  it("checks EIP-55 on mixed case and wants context for single-case Ethereum addresses", () => {
    expect(eip55Valid("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")).toBe(true);
    expect(eip55Valid("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")).toBe(false);
    expect(found(cryptoWallet, "tip 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")).toHaveLength(1);
    expect(found(cryptoWallet, "slot 0x8617e340b3d01fa5f11f306f4090fd50e238070d")).toEqual([]);
    expect(found(cryptoWallet, "eth wallet 0x8617e340b3d01fa5f11f306f4090fd50e238070d")).toHaveLength(1);
    expect(run(cryptoWallet, "tip 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")[0]!.score).toBeGreaterThanOrEqual(0.8);
  });

  it("leaves transaction hashes, digests and sentinels alone", () => {
    for (const text of [
      `tx 0x${"ab".repeat(32)}`,
      `wallet 0x${"0".repeat(40)}`,
      "commit 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
      "3FZbgi29cpjq2GjdwV8eyHuJJnkLtktZc6",
      "lnbc1500n1pw5kjhmpp5fu6xhthlt2vucmzkx6c7wtlh2r625r30cyjsfqhu8rsx4xpz5lwq",
      "testnet mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
    ]) {
      expect(found(cryptoWallet, text), text).toEqual([]);
    }
  });

  it("stays linear on adversarial input", () => {
    for (const text of Object.values(ADVERSARIAL)) run(cryptoWallet, text);
    expect(run(cryptoWallet, "bc1" + "q".repeat(100_000))).toEqual([]);
  });
});
