import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Detector, Match } from "../types.ts";
import { PII_DIRECTIONS, hasContext } from "./text.ts";

/** Legacy (P2PKH, `1…`) and script (P2SH, `3…`) addresses in base58. */
const BASE58_ADDRESS = /(?<!\w)[13][1-9A-HJ-NP-Za-km-z]{25,34}(?!\w)/g;
/** SegWit and Taproot addresses; the bech32 alphabet has no 1, b, i or o after the separator. */
const BECH32_ADDRESS = /(?<!\w)(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}(?!\w)/g;
/** `0x` and 40 hex digits, not the start of a 64-digit transaction hash. */
const ETH_ADDRESS = /(?<!\w)0x[0-9a-fA-F]{40}(?!\w)/g;
const ETH_CONTEXT = /\b(?:wallet|eth|ether|ethereum|address|addr|send|sent|transfer|pay|payout|deposit|withdraw|withdrawal|recipient|beneficiary|metamask|erc20|erc-20|usdt|usdc|crypto)\b/;

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/** Base58 text to bytes (leading `1`s are zero bytes). Inputs are at most 35 characters. */
function base58Decode(s: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (const ch of s) {
    let carry = BASE58.indexOf(ch);
    if (carry < 0) return undefined;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i]! * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    for (; carry > 0; carry >>= 8) bytes.push(carry & 0xff);
  }
  for (let i = 0; i < s.length && s[i] === "1"; i++) bytes.push(0);
  return Uint8Array.from(bytes.reverse());
}

/** Version byte 0x00 (P2PKH) or 0x05 (P2SH), a 20-byte hash, and the first 4 bytes of SHA-256d as checksum. */
export function base58CheckValid(address: string): boolean {
  const bytes = base58Decode(address);
  if (!bytes || bytes.length !== 25 || (bytes[0] !== 0x00 && bytes[0] !== 0x05)) return false;
  const hash = sha256(sha256(bytes.subarray(0, 21)));
  return hash[0] === bytes[21] && hash[1] === bytes[22] && hash[2] === bytes[23] && hash[3] === bytes[24];
}

function bech32Polymod(values: number[]): number {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  return chk >>> 0;
}

/** BIP-173 (witness v0, bech32) and BIP-350 (v1+, bech32m) mainnet addresses with a valid program length. */
export function segwitAddressValid(address: string): boolean {
  const s = address.toLowerCase();
  if (s.length > 90 || (address !== s && address !== address.toUpperCase())) return false;
  const data: number[] = [];
  for (let i = 3; i < s.length; i++) data.push(BECH32.indexOf(s[i]!));
  if (data.length < 7 || data.includes(-1)) return false;
  const version = data[0]!;
  const constant = bech32Polymod([3, 3, 0, 2, 3, ...data]); // "bc" expanded: high bits, 0, low bits
  if (constant !== (version === 0 ? 1 : 0x2bc830a3) || version > 16) return false;
  // The program: 5-bit groups after the version, before the 6-character checksum, regrouped into bytes.
  let acc = 0;
  let bits = 0;
  let length = 0;
  for (const v of data.slice(1, -6)) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      length++;
    }
  }
  if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) return false;
  return version === 0 ? length === 20 || length === 32 : length >= 2 && length <= 40;
}

/** EIP-55: a letter is upper case exactly when its nibble of keccak256(lower-case hex) is 8 or more. */
export function eip55Valid(address: string): boolean {
  const hex = address.slice(2);
  const lowerHex = hex.toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(lowerHex));
  for (let i = 0; i < 40; i++) {
    const c = hex[i]!;
    if (c >= "0" && c <= "9") continue;
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    if ((nibble >= 8) !== (c >= "A" && c <= "F")) return false;
  }
  return true;
}

export const cryptoWallet: Detector = {
  id: "crypto_wallet",
  category: "pii",
  placeholder: "CRYPTO_WALLET",
  description: "Bitcoin (base58check, bech32/bech32m) and Ethereum (EIP-55) wallet addresses",
  directions: PII_DIRECTIONS,
  detect(text, { lower }) {
    const matches: Match[] = [];
    BASE58_ADDRESS.lastIndex = 0;
    for (let m = BASE58_ADDRESS.exec(text); m; m = BASE58_ADDRESS.exec(text)) {
      if (base58CheckValid(m[0])) matches.push({ start: m.index, end: m.index + m[0].length, score: 0.95, rule: "bitcoin_base58" });
    }
    BECH32_ADDRESS.lastIndex = 0;
    for (let m = BECH32_ADDRESS.exec(text); m; m = BECH32_ADDRESS.exec(text)) {
      if (segwitAddressValid(m[0])) matches.push({ start: m.index, end: m.index + m[0].length, score: 0.95, rule: "bitcoin_bech32" });
    }
    ETH_ADDRESS.lastIndex = 0;
    for (let m = ETH_ADDRESS.exec(text); m; m = ETH_ADDRESS.exec(text)) {
      const hex = m[0].slice(2);
      const singleCase = hex === hex.toLowerCase() || hex === hex.toUpperCase();
      const start = m.index;
      const end = start + m[0].length;
      // Mixed case carries the EIP-55 checksum; one case carries none, so it needs a word like
      // "wallet". The zero address and `0xfff…` are sentinels in code, not anyone's wallet.
      if (hex === hex[0]!.repeat(40)) continue;
      if (singleCase ? !hasContext(lower, start, end, ETH_CONTEXT) : !eip55Valid(m[0])) continue;
      matches.push({ start, end, score: singleCase ? 0.85 : 0.95, rule: "ethereum" });
    }
    return matches.length > 1 ? matches.sort((a, b) => a.start - b.start) : matches;
  },
};
