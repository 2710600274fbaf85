// Writes test/fixtures/guardrails/pii.jsonl: labelled positives and hard negatives for the PII
// detectors. Values are synthetic and built here with independent encoders (Luhn, mod-97,
// base58check, bech32, EIP-55) so the corpus does not rest on the detectors' own code.
// Deterministic: `node scripts/eval/generate-pii-corpus.ts` rewrites the same file.
import { writeFileSync } from "node:fs";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

type Direction = "prompt" | "response" | "tool_args" | "tool_result" | "hook";
interface Sample {
  text: string;
  direction: Direction;
  expect: string[];
  note: string;
}

const OUT = new URL("../../test/fixtures/guardrails/pii.jsonl", import.meta.url);

let seed = 0x5eed;
/** mulberry32: a small seeded generator, so reruns produce the same corpus. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => int(0, 9)).join("");
const letters = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(65, 90))).join("");
const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[int(0, 15)]).join("");
const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(0, 255));

const samples: Sample[] = [];
const add = (text: string, direction: Direction, expect: string[], note: string) => samples.push({ text, direction, expect, note });

// ---- cards ---------------------------------------------------------------------------------
function luhnCheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}
const cardNumber = (prefix: string, length: number) => {
  const body = prefix + digits(length - prefix.length - 1);
  return body + luhnCheckDigit(body);
};
const breakLuhn = (n: string) => n.slice(0, -1) + ((Number(n.at(-1)) + int(1, 9)) % 10);
function formatCard(n: string, style: number): string {
  if (style === 0) return n;
  const sep = style === 1 ? " " : "-";
  if (n.length === 15) return [n.slice(0, 4), n.slice(4, 10), n.slice(10)].join(sep);
  return n.match(/.{1,4}/g)!.join(sep);
}
const BRANDS: [string, () => string, number][] = [
  ["Visa", () => "4", 16], ["Visa", () => "4", 16], ["Visa 13-digit", () => "4", 13],
  ["Mastercard", () => String(int(51, 55)), 16], ["Mastercard 2-series", () => String(int(2221, 2720)), 16],
  ["Amex", () => pick(["34", "37"]), 15], ["Discover", () => pick(["6011", "65", String(int(644, 649))]), 16],
  ["Diners", () => pick(["36", "300", "305", "38"]), 14], ["JCB", () => String(int(3528, 3589)), 16],
  ["UnionPay", () => "62" + int(1, 9), 16], ["Visa 19-digit", () => "4", 19],
];
const CARD_TEMPLATES: [Direction, (c: string, brand: string) => string][] = [
  ["prompt", (c) => `Can you update my billing? New card number ${c}, expires 08/28.`],
  ["prompt", (c, b) => `My ${b} is ${c} and the CVV is 331, please book the hotel.`],
  ["prompt", (c) => `charge ${c} for the annual plan`],
  ["tool_args", (c) => `{"customer":"cus_8812","card_number":"${c}","exp_month":4,"exp_year":2027}`],
  ["tool_result", (c, b) => `Payment method on file: ${b}, PAN ${c}, billing address verified.`],
  ["response", (c) => `The number you pasted, ${c}, is the one I'll put in the payment form.`],
  ["hook", (c) => `echo "${c}" >> /tmp/cards.txt`],
  ["prompt", (c) => `Here are the digits: ${c}`],
];
BRANDS.forEach(([brand, prefix, length], i) => {
  for (let k = 0; k < 3; k++) {
    const [direction, template] = CARD_TEMPLATES[(i * 3 + k) % CARD_TEMPLATES.length]!;
    const n = cardNumber(prefix(), length);
    add(template(formatCard(n, (i + k) % 3), brand), direction, ["credit_card"], `${brand} card`);
  }
});
add("Use the Stripe test card 4242 4242 4242 4242 with any future date.", "response", ["credit_card"], "well-known test Visa, still a card number");
add("card: 5555555555554444 exp 12/30", "prompt", ["credit_card"], "Mastercard test number");
add("amex 3782 822463 10005", "prompt", ["credit_card"], "Amex test number, 4-6-5");

// Hard negatives: the same shapes failing Luhn, ids, counters, sequences.
BRANDS.forEach(([brand, prefix, length], i) => {
  const [direction, template] = CARD_TEMPLATES[i % CARD_TEMPLATES.length]!;
  add(template(formatCard(breakLuhn(cardNumber(prefix(), length)), i % 3), brand), direction, [], `${brand}-shaped, fails Luhn`);
});
add("test card 4111 1111 1111 1112 should be declined", "prompt", [], "test Visa with the last digit changed: fails Luhn");
for (let k = 0; k < 6; k++) {
  add(`Order #${breakLuhn(cardNumber(pick(["4", "5", "7", "9"]), 16))} shipped on Tuesday`, "tool_result", [], "16-digit order id, fails Luhn");
}
for (let k = 0; k < 4; k++) add(`tracking number ${cardNumber(pick(["4", "5"]), 16)}`, "tool_result", [], "16-digit tracking number that happens to pass Luhn");
add("placeholder 0000 0000 0000 0000 in the form", "response", [], "all zeros");
add("card field default: 4444 4444 4444 4444", "prompt", [], "repeated digit");
add("sequence 1234 5678 9012 3456 for the demo", "prompt", [], "sequential digits");
add("request took 1714566645123 ms since epoch", "tool_result", [], "millisecond timestamp");
add("row 4111111111111111111111 of the export", "tool_result", [], "22-digit run containing a card-like prefix");
add("IMEI 490154203237518 on the device label", "tool_result", [], "IMEI (Luhn-valid, 15 digits, not a card prefix)");

// ---- IBAN ----------------------------------------------------------------------------------
const IBAN_BBAN: Record<string, () => string> = {
  DE: () => digits(18), GB: () => letters(4) + digits(14), FR: () => digits(23), NL: () => letters(4) + digits(10),
  ES: () => digits(20), IT: () => letters(1) + digits(22), BE: () => digits(12), CH: () => digits(17), AT: () => digits(16),
  PL: () => digits(24), SE: () => digits(20), IE: () => letters(4) + digits(14), PT: () => digits(21), NO: () => digits(11),
  DK: () => digits(14), FI: () => digits(14), LU: () => digits(16), BR: () => digits(23) + "C1", SA: () => digits(20),
  AE: () => digits(19), TR: () => digits(22), MT: () => letters(4) + digits(23), GR: () => digits(23), CZ: () => digits(20),
  HU: () => digits(24), RO: () => letters(4) + digits(16),
};
function ibanFor(country: string, bban: string): string {
  const numeric = [...(bban + country + "00")].map((ch) => (/\d/.test(ch) ? ch : String(ch.charCodeAt(0) - 55))).join("");
  const check = 98n - (BigInt(numeric) % 97n);
  return country + String(check).padStart(2, "0") + bban;
}
const spaced = (s: string) => s.match(/.{1,4}/g)!.join(" ");
const IBAN_TEMPLATES: [Direction, (i: string) => string][] = [
  ["prompt", (i) => `Please wire the deposit to IBAN ${i} before Friday.`],
  ["prompt", (i) => `Beneficiary: Jane Roe, ${i}`],
  ["tool_args", (i) => `{"iban":"${i}","amount":1200,"currency":"EUR"}`],
  ["tool_result", (i) => `account ${i} verified by the bank`],
  ["response", (i) => `I've noted the account ${i} for the refund.`],
  ["prompt", (i) => `send it to ${i} please`],
];
Object.entries(IBAN_BBAN).forEach(([country, bban], i) => {
  const value = ibanFor(country, bban());
  const [direction, template] = IBAN_TEMPLATES[i % IBAN_TEMPLATES.length]!;
  add(template(i % 2 === 0 ? spaced(value) : value), direction, ["iban"], `${country} IBAN`);
});
add("IBAN: DE89 3704 0044 0532 0130 00", "prompt", ["iban"], "published DE example");
add("pay GB29NWBK60161331926819 today", "prompt", ["iban"], "published GB example, compact");
add("Konto: fr14 2004 1010 0505 0001 3m02 606", "prompt", ["iban"], "published FR example in lower case");

Object.entries(IBAN_BBAN).slice(0, 12).forEach(([country, bban], i) => {
  const value = ibanFor(country, bban());
  const broken = value.slice(0, -1) + ((Number(value.at(-1)) + 1) % 10);
  const [direction, template] = IBAN_TEMPLATES[i % IBAN_TEMPLATES.length]!;
  add(template(i % 2 === 0 ? spaced(broken) : broken), direction, [], `${country} IBAN shape, bad mod-97`);
});
add("IBAN DE89 3704 0044 0532 0130", "prompt", [], "DE example with a group missing: wrong length");
add("ref XX89 3704 0044 0532 0130 00 in the ledger", "tool_result", [], "unknown country code");
add("part number GB12ABCD12345678901234 in stock", "tool_result", [], "IBAN-shaped part number, bad mod-97");
add("IBAN DE00 0000 0000 0000 0000 00", "prompt", [], "placeholder IBAN, check digits 00");

// ---- US SSN --------------------------------------------------------------------------------
const ssnParts = () => {
  let area = int(1, 899);
  while (area === 666) area = int(1, 899);
  return [String(area).padStart(3, "0"), String(int(1, 99)).padStart(2, "0"), String(int(1, 9999)).padStart(4, "0")] as const;
};
const SSN_TEMPLATES: [Direction, (a: string, g: string, s: string) => string][] = [
  ["prompt", (a, g, s) => `My SSN is ${a}-${g}-${s}, can you fill in the W-4?`],
  ["tool_args", (a, g, s) => `{"name":"Jane Roe","ssn":"${a}-${g}-${s}"}`],
  ["prompt", (a, g, s) => `social security number ${a} ${g} ${s}`],
  ["tool_result", (a, g, s) => `SSN: ${a}${g}${s} (verified)`],
  ["response", (a, g, s) => `The applicant's social security number ${a}-${g}-${s} matches the record.`],
  ["tool_result", (a, g, s) => `Employee record: Jane Roe, ${a}-${g}-${s}, hired 2019`],
  ["prompt", (a, g, s) => `ss# ${a}-${g}-${s}`],
];
for (let k = 0; k < 24; k++) {
  const [direction, template] = SSN_TEMPLATES[k % SSN_TEMPLATES.length]!;
  add(template(...ssnParts()), direction, ["us_ssn"], "synthetic SSN");
}
const [sa, sg, ss] = ssnParts();
const SSN_NEGATIVES: [string, string][] = [
  [`My SSN is 000-${sg}-${ss}`, "area 000"], [`SSN 666-${sg}-${ss}`, "area 666"], [`ssn: 912-${sg}-${ss}`, "area 9xx (ITIN range)"],
  [`SSN ${sa}-00-${ss}`, "group 00"], [`SSN ${sa}-${sg}-0000`, "serial 0000"], ["SSN 078-05-1120", "Woolworth wallet card number"],
  ["example SSN 123-45-6789", "advertised example"], ["SSN 111-11-1111", "repeated digit"], [`ssn ${sa}-${sg} ${ss}`, "mixed delimiters"],
  [`Invoice ${sa}${sg}${ss} paid`, "bare nine digits without context"], ["ZIP+4 94105-1234", "ZIP+4"], [`part no. ${sa}-${sg}-${ss}9`, "longer part number"],
  [`SSN 987-65-4320`, "area 987"], [`routing 021000021 for the wire`, "ABA routing number"],
];
for (const [text, note] of SSN_NEGATIVES) add(text, "prompt", [], note);

// ---- email ---------------------------------------------------------------------------------
const FIRST = ["jane", "john", "maria", "wei", "amit", "olga", "kwame", "lucia", "sam", "noor"];
const LAST = ["roe", "doe", "garcia", "zhang", "patel", "ivanova", "mensah", "rossi", "lee", "haddad"];
const DOMAINS = ["acme.io", "globex.com", "initech.co.uk", "mail.example.org", "hooli.dev", "umbrella-corp.net", "gmail.com", "outlook.fr", "startup.ai", "sub.mail.company.de"];
const emailAddress = () => {
  const f = pick(FIRST), l = pick(LAST);
  const local = pick([`${f}.${l}`, `${f}${l}`, `${f[0]}${l}`, `${f}_${l}${int(1, 99)}`, `${f}+billing`]);
  return `${local}@${pick(DOMAINS)}`;
};
const EMAIL_TEMPLATES: [Direction, (e: string) => string][] = [
  ["prompt", (e) => `Please send the report to ${e}.`],
  ["prompt", (e) => `From: Jane Roe <${e}>`],
  ["tool_args", (e) => `{"to":["${e}"],"subject":"Quarterly numbers"}`],
  ["tool_result", (e) => `owner: ${e}\nstatus: active`],
  ["response", (e) => `I've drafted the reply to ${e} below.`],
  ["hook", (e) => `git config user.email "${e}"`],
  ["prompt", (e) => `<a href="mailto:${e}">contact</a>`],
];
for (let k = 0; k < 24; k++) {
  const [direction, template] = EMAIL_TEMPLATES[k % EMAIL_TEMPLATES.length]!;
  add(template(emailAddress()), direction, ["email"], "email address");
}
add("const admin = 'user@example.com'; // sample", "response", ["email"], "placeholder address in code is still an address");
add("Write to SUPPORT@ACME.IO", "prompt", ["email"], "upper case");
const EMAIL_NEGATIVES: [string, string][] = [
  ["Use icon@2x.png for retina screens", "retina asset file name"],
  ["npm install @scope/pkg@1.2.3", "package specifier"],
  ["ssh into user@localhost", "no TLD"],
  ["git clone git@github.com:acme/airlock.git", "SSH remote"],
  ["docker pull nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", "image digest"],
  ["ping @jane in #ops", "Slack mention"],
  ["<script src=\"https://cdn.jsdelivr.net/npm/lodash@4.17.21/lodash.min.js\"></script>", "CDN URL with a version"],
  ["decorate it with @Injectable() and @Component", "decorators"],
  ["the price is 3 @ $4.99 each", "at-sign as 'each'"],
  ["foo@bar is not an address", "no dot in the domain"],
  ["run as node@24 in CI", "tool version"],
  ["background: url(logo@3x.webp)", "asset name"],
];
for (const [text, note] of EMAIL_NEGATIVES) add(text, "prompt", [], note);

// ---- phone ---------------------------------------------------------------------------------
const US_AREAS = ["201", "212", "305", "312", "415", "503", "617", "646", "702", "713", "818", "917"];
const PHONE_FORMATS: [CountryCode, () => [written: string, national: string]][] = [
  ["US", () => { const a = pick(US_AREAS), e = String(int(200, 999)), l = digits(4); return [`(${a}) ${e}-${l}`, a + e + l]; }],
  ["US", () => { const a = pick(US_AREAS), e = String(int(200, 999)), l = digits(4); return [`${a}-${e}-${l}`, a + e + l]; }],
  ["US", () => { const a = pick(US_AREAS), e = String(int(200, 999)), l = digits(4); return [`+1 ${a} ${e} ${l}`, a + e + l]; }],
  ["US", () => { const a = pick(US_AREAS), e = String(int(200, 999)), l = digits(4); return [`${a}.${e}.${l}`, a + e + l]; }],
  ["US", () => { const a = pick(US_AREAS), e = String(int(200, 999)), l = digits(4); return [`+1${a}${e}${l}`, a + e + l]; }],
  ["GB", () => { const n = "20" + pick(["7", "8", "3"]) + digits(7); return [`020 ${n.slice(2, 6)} ${n.slice(6)}`, n]; }],
  ["GB", () => { const n = "7" + pick(["4", "5", "7", "8", "9"]) + digits(8); return [`+44 ${n.slice(0, 4)} ${n.slice(4)}`, n]; }],
  ["GB", () => { const n = "7" + pick(["4", "5", "7", "8", "9"]) + digits(8); return [`0${n.slice(0, 4)} ${n.slice(4)}`, n]; }],
  ["DE", () => { const n = "30" + digits(8); return [`030 ${n.slice(2)}`, n]; }],
  ["DE", () => { const n = "15" + pick(["1", "2", "7"]) + digits(8); return [`+49 ${n.slice(0, 3)} ${n.slice(3)}`, n]; }],
  ["DE", () => { const n = "89" + digits(7); return [`089/${n.slice(2)}`, n]; }],
  ["FR", () => { const n = pick(["1", "6", "7"]) + digits(8); return [`0${n[0]} ${n.slice(1).match(/../g)!.join(" ")}`, n]; }],
  ["FR", () => { const n = "6" + digits(8); return [`+33 6 ${n.slice(1).match(/../g)!.join(" ")}`, n]; }],
  ["FR", () => { const n = "1" + digits(8); return [`01.${n.slice(1).match(/../g)!.join(".")}`, n]; }],
  ["IN", () => { const n = pick(["98", "97", "91", "88", "70"]) + digits(8); return [`+91 ${n.slice(0, 5)} ${n.slice(5)}`, n]; }],
  ["IN", () => { const n = pick(["98", "97", "91"]) + digits(8); return [`+91-${n}`, n]; }],
  ["ES", () => { const n = "6" + digits(8); return [`+34 ${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`, n]; }],
  ["NL", () => { const n = "6" + digits(8); return [`06-${n.slice(1)}`, n]; }],
  ["AU", () => { const n = "4" + digits(8); return [`+61 ${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`, n]; }],
  ["JP", () => { const n = "3" + digits(8); return [`+81 3-${n.slice(1, 5)}-${n.slice(5)}`, n]; }],
  ["BR", () => { const n = "119" + digits(8); return [`+55 11 ${n.slice(2, 7)}-${n.slice(7)}`, n]; }],
  ["SG", () => { const n = pick(["8", "9"]) + digits(7); return [`+65 ${n.slice(0, 4)} ${n.slice(4)}`, n]; }],
];
function validPhone(country: CountryCode, make: () => [string, string]): string {
  for (;;) {
    const [written, national] = make();
    if (parsePhoneNumberFromString(national, country)?.isValid()) return written;
  }
}
const PHONE_TEMPLATES: [Direction, (p: string) => string][] = [
  ["prompt", (p) => `Call me at ${p} after 5pm.`],
  ["prompt", (p) => `My mobile: ${p}`],
  ["tool_args", (p) => `{"to":"${p}","body":"Your code is ready"}`],
  ["tool_result", (p) => `Customer phone ${p}, preferred contact by SMS`],
  ["response", (p) => `You can reach the front desk on ${p}.`],
  ["prompt", (p) => `Jane Roe, ${p}, Berlin office`],
];
PHONE_FORMATS.forEach(([country, make], i) => {
  for (let k = 0; k < 2; k++) {
    const [direction, template] = PHONE_TEMPLATES[(i * 2 + k) % PHONE_TEMPLATES.length]!;
    add(template(validPhone(country, make)), direction, ["phone"], `${country} phone`);
  }
});
add("phone: 4155552671", "tool_result", ["phone"], "bare ten digits next to 'phone'");
add("WhatsApp +447911123456 anytime", "prompt", ["phone"], "compact E.164");
add("Tel. +44 (0)20 7946 0958", "prompt", ["phone"], "UK with (0)");
const PHONE_NEGATIVES: [string, string][] = [
  ["Released on 2024-05-01 with the new scheduler", "ISO date"], ["at 2024-05-01T12:30:45Z the job failed", "ISO timestamp"],
  ["log line 2024-05-01 12:30:45 ERROR", "date and time"], ["due 01/05/2024", "DMY date"], ["Stichtag 31.12.2023", "dotted date"],
  ["due 12-31-2024", "MDY date"], ["upgrade to version 10.15.7", "version"], ["Chrome/120.0.6099.109 Safari/537.36", "user agent"],
  ["node 22.12.0 and npm 10.9.2", "versions"], ["id 123e4567-e89b-12d3-a456-426614174000", "UUID"],
  ["request 550e8400-e29b-41d4-a716-446655440000 timed out", "UUID with long digit group"],
  ["commit 4155552671a3c9e0d1b2f3a4b5c6d7e8f9a0b1c2", "git SHA starting with digits"], ["merged 9f86d08 into main", "short SHA"],
  ["Order 4155552671 shipped", "bare ten-digit order id"], ["order no. 415-555-2671", "order id with phone shape"],
  ["ticket 2125550147 closed", "ticket id"], ["Total: $4,155,552,671", "price"], ["revenue € 1 299 000 in Q3", "price with spaces"],
  ["Price 1 234 567,89 EUR", "price with decimals"],
  ["population 331 449 281 in 2020", "large count"], ["ISBN 978-0-306-40615-7", "ISBN"], ["epoch 1714566645 seconds", "unix time"],
  ["coordinates 37.7749, -122.4194", "coordinates"], ["pi is 3.14159265358979", "decimal"], ["In 2019 2020 2021 we grew", "years"],
  ["zip codes 94105 94107 94110", "zip codes"], ["build 20240501.3 deployed", "build number"], ["at 12:30:45 the build ran 1200 tests", "clock time"],
  ["matrix 100 200 300 400 500 600", "number list"], ["latency 1.234.567 ns", "dotted grouping"],
];
for (const [text, note] of PHONE_NEGATIVES) add(text, "prompt", [], note);
add("gateway 192.168.100.200", "tool_result", ["ip_address"], "IPv4 is not a phone number");
add("resolver 10.20.30.40", "tool_result", ["ip_address"], "IPv4 is not a phone number");

// ---- IP addresses --------------------------------------------------------------------------
const publicIpv4 = () => {
  for (;;) {
    const o = [int(1, 223), int(0, 255), int(0, 255), int(1, 254)];
    if (![10, 100, 127, 169, 172, 192, 198, 203].includes(o[0]!)) return o.join(".");
  }
};
const IP_TEMPLATES: [Direction, (ip: string) => string][] = [
  ["tool_result", (ip) => `Accepted publickey for deploy from ${ip} port 52144 ssh2`],
  ["prompt", (ip) => `My home IP is ${ip}, can you whitelist it?`],
  ["tool_args", (ip) => `{"rule":"allow","source":"${ip}/32"}`],
  ["response", (ip) => `The request came from ${ip}.`],
  ["hook", (ip) => `curl -s http://${ip}:8080/health`],
];
for (let k = 0; k < 12; k++) {
  const [direction, template] = IP_TEMPLATES[k % IP_TEMPLATES.length]!;
  add(template(publicIpv4()), direction, ["ip_address"], "public IPv4");
}
const IPV6 = [
  "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:82b::200e", `2a01:${hex(4)}:${hex(4)}:${hex(2)}::${hex(3)}`,
  `2600:1f18:${hex(4)}:${hex(4)}:${hex(4)}:${hex(4)}:${hex(4)}:${hex(4)}`, "::ffff:8.8.4.4", "fe80::1ff:fe23:4567:890a",
  "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::1",
];
IPV6.forEach((ip, k) => {
  const [direction, template] = IP_TEMPLATES[k % IP_TEMPLATES.length]!;
  add(template(ip.includes(":") && k % 5 === 4 ? `[${ip}]` : ip), direction, ["ip_address"], "IPv6");
});
add("bind to 127.0.0.1 and 10.0.12.7", "tool_args", ["ip_address"], "loopback and private: found, scored lower");
add("the router at 192.168.1.1 is down", "prompt", ["ip_address"], "private IPv4");
const IP_NEGATIVES: [string, string][] = [
  ["upgrade from 1.2.3.4.5 to 1.2.4.0.0", "five-part versions"], ["OID 1.3.6.1.4.1.311.21.20", "OID"], ["version 1.2.3.4 of the driver", "labelled version"],
  ["see section 4.2.1.3 of the RFC", "section number"], ["value 256.256.256.256 is not an address", "octets out of range"],
  ["release 1.22.333", "three-part version"], ["at 12:30:45 we deployed", "clock time"], ["MAC 00:1A:2B:3C:4D:5E", "MAC address"],
  ["std::vector<int> v; v[1::2]", "C++ scope and slice"], ["dates 2024.05.01", "dotted date"], ["v10.0.0.1 is tagged", "tag name"],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "user agent"], ["ratio 3.14:2.71:1.61", "ratios"], ["use Foo::Bar::baz()", "Ruby/Perl scope"],
];
for (const [text, note] of IP_NEGATIVES) add(text, "prompt", [], note);

// ---- crypto wallets ------------------------------------------------------------------------
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58check(version: number, payload: Uint8Array): string {
  const body = Uint8Array.from([version, ...payload]);
  const full = Uint8Array.from([...body, ...sha256(sha256(body)).slice(0, 4)]);
  let n = BigInt("0x" + Buffer.from(full).toString("hex"));
  let out = "";
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of full) {
    if (b !== 0) break;
    out = "1" + out;
  }
  return out;
}
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
function polymod(values: number[]): number {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const b = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    gen.forEach((g, i) => { if ((b >>> i) & 1) chk = (chk ^ g) >>> 0; });
  }
  return chk;
}
function segwit(version: number, program: Uint8Array): string {
  const data = [version];
  let acc = 0, bits = 0;
  for (const b of program) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) data.push((acc >>> (bits -= 5)) & 31);
  }
  if (bits > 0) data.push((acc << (5 - bits)) & 31);
  const hrp = [3, 3, 0, 2, 3];
  const mod = polymod([...hrp, ...data, 0, 0, 0, 0, 0, 0]) ^ (version === 0 ? 1 : 0x2bc830a3);
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return "bc1" + [...data, ...checksum].map((v) => CHARSET[v]).join("");
}
function eip55(addressHex: string): string {
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(addressHex))).toString("hex");
  return "0x" + [...addressHex].map((c, i) => (parseInt(hash[i]!, 16) >= 8 ? c.toUpperCase() : c)).join("");
}
const WALLET_TEMPLATES: [Direction, (w: string) => string][] = [
  ["prompt", (w) => `Send the refund to my wallet ${w}`],
  ["tool_args", (w) => `{"to":"${w}","amount":"0.25"}`],
  ["response", (w) => `Deposits go to ${w}; allow six confirmations.`],
  ["tool_result", (w) => `payout address: ${w}`],
  ["prompt", (w) => `${w} is the one I use`],
];
const wallets: [string, string][] = [];
for (let k = 0; k < 6; k++) wallets.push([base58check(0x00, bytes(20)), "bitcoin P2PKH"]);
for (let k = 0; k < 4; k++) wallets.push([base58check(0x05, bytes(20)), "bitcoin P2SH"]);
for (let k = 0; k < 3; k++) wallets.push([segwit(0, bytes(20)), "bitcoin P2WPKH (bech32)"]);
for (let k = 0; k < 2; k++) wallets.push([segwit(0, bytes(32)), "bitcoin P2WSH (bech32)"]);
for (let k = 0; k < 3; k++) wallets.push([segwit(1, bytes(32)), "bitcoin taproot (bech32m)"]);
for (let k = 0; k < 6; k++) wallets.push([eip55(hex(40)), "ethereum EIP-55"]);
wallets.forEach(([w, note], k) => {
  const [direction, template] = WALLET_TEMPLATES[k % WALLET_TEMPLATES.length]!;
  add(template(w), direction, ["crypto_wallet"], note);
});
add(`eth address 0x${hex(40)}`, "prompt", ["crypto_wallet"], "lower-case ethereum address with context");
add("genesis 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "response", ["crypto_wallet"], "well-known P2PKH");
add("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "prompt", ["crypto_wallet"], "BIP-173 vector, upper case");
const corrupt = (s: string, at: number) => s.slice(0, at) + (s[at] === "2" ? "3" : "2") + s.slice(at + 1);
const WALLET_NEGATIVES: [string, string][] = [
  [`tx 0x${hex(64)} confirmed`, "64-hex transaction hash"], [`block hash 0x${hex(64)}`, "block hash"],
  [`storage slot 0x${hex(40)} in the trace`, "lower-case 40 hex without wallet context"],
  [`Send the refund to ${corrupt(base58check(0x00, bytes(20)), 10)}`, "base58 address with a bad checksum"],
  [`wallet ${corrupt(segwit(0, bytes(20)), 12)}`, "bech32 address with a bad checksum"],
  [`wallet ${eip55(hex(40)).replace(/[a-f]/, (c) => c.toUpperCase())}`, "mixed case failing EIP-55"],
  [`commit ${hex(40)}`, "git SHA"], [`sha1 0x${hex(40)}`, "SHA-1 digest with 0x"], ["see 1Password and 3Blue1Brown videos", "words starting 1/3"],
  [`session ${base58check(0x00, bytes(20)).slice(0, 20)}`, "base58 fragment"], [`bc1 ${hex(30)}`, "bc1 followed by hex"],
];
for (const [text, note] of WALLET_NEGATIVES) add(text, "prompt", [], note);

// ---- harder shapes: punctuation around values, other spellings, more lookalikes -------------
const HARD_POSITIVES: [string, Direction, string[], string][] = [
  ["Card: 4111-1111-1111-1111.", "prompt", ["credit_card"], "card at the end of a sentence"],
  ["(card 5500 0000 0000 0004)", "prompt", ["credit_card"], "card in parentheses"],
  ["CC#4111111111111111", "prompt", ["credit_card"], "card after a hash sign"],
  ["| Jane Roe | 3530 1113 3330 0000 | 09/29 |", "tool_result", ["credit_card"], "card in a markdown table"],
  ["visa\n4012888888881881\nexp 10/29", "prompt", ["credit_card"], "card on its own line"],
  ["Discover 6011 0009 9013 9424", "prompt", ["credit_card"], "Discover test number"],
  ["Diners 3056 930902 5904", "prompt", ["credit_card"], "Diners 4-6-4"],
  ["IBAN GB82 WEST 1234 5698 7654 32", "prompt", ["iban"], "published GB example"],
  ["iban: at611904300234573201", "prompt", ["iban"], "AT example, lower case compact"],
  ["CH93 0076 2011 6238 5295 7", "tool_result", ["iban"], "CH example, short last group"],
  ["NO93 8601 1117 947", "prompt", ["iban"], "shortest IBAN (NO)"],
  ["SSN#536-22-4187", "prompt", ["us_ssn"], "SSN after a hash sign"],
  ["Social Security: 536 22 4187", "prompt", ["us_ssn"], "spaced SSN with context"],
  ["Reach me: <jane.roe@acme.io>", "prompt", ["email"], "angle brackets"],
  ["(jane@acme.io)", "prompt", ["email"], "parentheses"],
  ["cc: jane@acme.io;bob@globex.com", "prompt", ["email"], "two addresses, no space"],
  ["mail to o'connor.kate@uni-bonn.de please", "prompt", ["email"], "apostrophe before the address"],
  ["Call +1-800-275-2273 for Apple support", "response", ["phone"], "US toll free"],
  ["1 (212) 736-5000", "prompt", ["phone"], "US with leading 1 and parentheses"],
  ["[call us](tel:+14155552671)", "response", ["phone"], "tel: link"],
  ["Tel.: 089 12345678", "prompt", ["phone"], "Munich landline"],
  ["portable : 06 12 34 56 78", "prompt", ["phone"], "French mobile in pairs"],
  ["X-Forwarded-For: 203.0.113.7, 81.2.69.142", "tool_result", ["ip_address"], "forwarded chain"],
  ["inet6 2a03:2880:f12f:83:face:b00c:0:25de prefixlen 64", "tool_result", ["ip_address"], "full IPv6 in ifconfig output"],
  ["peer [2001:db8:1::ab9:c0a8:102]:443 closed", "tool_result", ["ip_address"], "bracketed IPv6 with port"],
  ["bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", "prompt", ["crypto_wallet"], "BIP-350 taproot vector"],
  ["3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "prompt", ["crypto_wallet"], "well-known P2SH"],
  ["donate: 0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe", "response", ["crypto_wallet"], "well-known EIP-55 address"],
];
for (const [text, direction, expect, note] of HARD_POSITIVES) add(text, direction, expect, note);
const HARD_NEGATIVES: [string, string][] = [
  ["Amazon order 114-4829371-2847561 arrives Friday", "marketplace order id"], ["serial 12345678901234567890", "20-digit serial"],
  ["p = 0.4111111111111111", "decimal fraction"], ["ns 1714566645123456789", "nanosecond timestamp"],
  ["EAN 4006381333931 on the box", "EAN-13 barcode"], ["Snowflake 1234567890123456789 posted", "snowflake id"],
  ["BIC DEUTDEFF500 for the transfer", "BIC"], ["token=AB12CDEF34GH56IJ78KLMN90", "IBAN-like token, unknown country"],
  ["NL91 ABNA 0417 1643 01", "NL example with a bad check"], ["target es2015 and es2022", "ES-prefixed words"],
  ["DE89370400440532013000X", "IBAN followed by a letter"],
  ["CVE-2024-12345 is fixed", "CVE id"], ["seq 0 1 2 3 4 5 6 7 8 9", "digit sequence"], ["dimensions 1920 1080 60", "numbers list"],
  ["ports 8080 8443 9090", "port list"], ["Scores: 98 87 91 76 88", "two-digit scores"], ["Lotto numbers 07 12 23 34 45 49", "lotto numbers"],
  ["Lat/long: 48.8566 2.3522", "coordinates"], ["sort code 20-00-00 account 55779911", "sort code and account"],
  ["open 09:00 - 17:00 daily", "opening hours"], ["invoice INV-2024-000123", "invoice number"], ["SKU 0-12345-67890-5", "SKU"],
  ["1.1.1 is not complete", "three octets"], ["Windows 10.0.19045.3693", "Windows build"], ["chapter 2.1.1.3 explains", "chapter number"],
  ["fig. 3.2.1.4 shows", "figure number"], ["timestamps 12:34:56:78", "colon-separated counters"], ["cafe:babe and dead:beef", "hex words"],
  ["slice data[100::2] in numpy", "Python slice"], ["Ruby ::Module::Klass", "Ruby scope"],
  [`QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco is pinned`, "IPFS CID"],
  [`key 1${[...Array(33)].map(() => B58[int(0, 57)]).join("")} rotated`, "random base58 string starting with 1"],
  [`id 3${[...Array(33)].map(() => B58[int(0, 57)]).join("")} expired`, "random base58 string starting with 3"],
  [`lnbc1500n1p${[...Array(40)].map(() => CHARSET[int(0, 31)]).join("")} invoice`, "lightning invoice"],
  [`testnet mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn`, "testnet address"], [`0x${"0".repeat(40)} is the zero address`, "zero address without wallet context"],
  ["see @media (max-width: 600px)", "CSS at-rule"], ["email@ is incomplete", "dangling at"], ["x@y.z single-letter TLD", "one-letter TLD"],
  ["a@b.c0m has a digit in the TLD", "digit in TLD"], ["ssh deploy@build-01", "host without a domain"], ["scp file.txt user@host:/tmp", "scp target"],
  ["ftp://anonymous:guest@ftp.acme.org/pub", "URL credentials"], ["git remote https://jane@github.com/acme/repo.git", "URL user name"],
  ["Use @Override on the method", "annotation"],
];
for (const [text, note] of HARD_NEGATIVES) add(text, "prompt", [], note);
// Lookalikes met when running the detectors over the READMEs, type definitions and code in node_modules.
const FOUND_IN_THE_WILD: [string, Direction, string][] = [
  ["// Prints: <Buffer 01 02 03 04 05>", "tool_result", "bytes in a Buffer print-out"],
  ["30 82 01 0a 02 82 01 01 00 b6 f4 f1", "tool_result", "DER hex dump"],
  ["For example, `1.2.3.4-rc.1+rev.2` is a pre-release", "response", "version with a pre-release tag"],
  ["v8: '11.3.244.8-node.9',", "tool_result", "engine version"],
  ["      // 4.2.6.1\n      if (innerRequest.method !== 'GET') {", "tool_args", "spec step in a comment"],
  ["For example, `1.2.3.4` will return `1.2.3`", "response", "placeholder version"],
  ["extensions: [{ type: '2.5.29.19', critical: true }]", "tool_args", "X.509 extension OID"],
];
for (const [text, direction, note] of FOUND_IN_THE_WILD) add(text, direction, [], note);

// Written after the detectors were first tuned and measured once as a held-out set (two labels
// corrected afterwards: the ES IBAN is the published valid one, the P2SH address was mistyped).
const HELD_OUT: [string, string[], string][] = [
  ["Hi, please swap the card on my account to 4532 2116 5758 6758, expiry 11/26", ["credit_card"], "credit_card"],
  ["Kreditkarte 5312791945134027 gültig bis 03/27", ["credit_card"], "credit_card"],
  ["the corporate amex 3728 805757 41066", ["credit_card"], "credit_card"],
  ["JSON: {\"pan\": \"2223187152425577\"}", ["credit_card"], "credit_card"],
  ["6011-7643-3243-2157", ["credit_card"], "credit_card"],
  ["Paid with UnionPay 6212475852494504", ["credit_card"], "credit_card"],
  ["transaction ref 9840648214436905", [], "random 16 digits (may pass Luhn 10%)"],
  ["Your confirmation code is 536448 and the booking 187931423060", [], "lookalike"],
  ["IBAN für die Miete: DE41 6366 4344 4838 8844 16", ["iban"], "iban"],
  ["Bonifico su IT78X0339329094548680971117", ["iban"], "iban"],
  ["Rekening NL77 INGB 4577 0449 99", ["iban"], "iban"],
  ["Compte BE56878474807325", ["iban"], "iban"],
  ["PL PL86781485577541105715309603", ["iban"], "iban"],
  ["IBAN ES91 2100 0418 4502 0005 1332", ["iban"], "published ES example"],
  ["model DE2024X launched", [], "lookalike"],
  ["my social is 217-91-9229", ["us_ssn"], "us_ssn"],
  ["SSN 131978899", ["us_ssn"], "us_ssn"],
  ["Social Security No. 610 86 1935", ["us_ssn"], "us_ssn"],
  ["Case 2023-00-1234 filed", [], "lookalike"],
  ["phone ext 415-55-1234", [], "3-2-4 but labelled phone; ambiguous"],
  ["Tracking: 1Z999AA10123456784", [], "lookalike"],
  ["write to maria.gonzalez@correo.es", ["email"], "email"],
  ["Contact: \"Wei Zhang\" <wei.zhang+news@tencent.cn>", ["email"], "email"],
  ["The bug is in foo@bar.baz.qux module path", ["email"], "syntactically an address"],
  ["email: first_last-123@sub-domain.company.travel", ["email"], "email"],
  ["@here deploy at 5", [], "lookalike"],
  ["user:pass@proxy:3128", [], "lookalike"],
  ["see https://example.com/@jane/post", [], "lookalike"],
  ["npm i react@18.2.0", [], "lookalike"],
  ["Ring me on 07700 900461", ["phone"], "Ofcom drama range (reserved for fiction)"],
  ["Tel +49 (0)30 1234567", ["phone"], "phone"],
  ["Mobile: +44 7911 123456", ["phone"], "phone"],
  ["call 212-555-0147 tonight", ["phone"], "phone"],
  ["Telefon: 0221 / 123 45 67", ["phone"], "phone"],
  ["WhatsApp: +971 50 123 4567", ["phone"], "phone"],
  ["contact +1 (646) 555-3890 ext. 22", ["phone"], "phone"],
  ["our Paris office: +33 (0)1 42 68 53 00", ["phone"], "phone"],
  ["Mumbai office 022 2204 4040", ["phone"], "phone"],
  ["Sydney (02) 9374 4000", ["phone"], "phone"],
  ["from 2023-12-01 to 2024-01-15", [], "lookalike"],
  ["uptime 99.95% over 30 days", [], "lookalike"],
  ["$ 1 299 999 budget", [], "lookalike"],
  ["IDs 4155552671, 4155552672, 4155552673", [], "lookalike"],
  ["the answer is 42 and 4 8 15 16 23 42", [], "lookalike"],
  ["git log 3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", [], "lookalike"],
  ["k8s v1.29.3 node 10.244.1.17", ["ip_address"], "ip_address"],
  ["nginx upstream 52.31.4.200:443", ["ip_address"], "ip_address"],
  ["blocked 2001:67c:2e8:22::c100:68b", ["ip_address"], "ip_address"],
  ["ip6: fd12:3456:789a:1::1", ["ip_address"], "ULA (scored 0.5)"],
  ["python3.11.4.2 installed", [], "lookalike"],
  ["semver 2.0.0-rc.1+build.1.2.3.4", [], "build metadata"],
  ["time 23:59:59.999", [], "lookalike"],
  ["\"10.1.2.3.4.5\" is an OID-like key", [], "lookalike"],
  ["BTC: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT", ["crypto_wallet"], "crypto_wallet"],
  ["send to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", ["crypto_wallet"], "crypto_wallet"],
  ["ETH 0x52908400098527886E0F7030069857D2E4169EE7", ["crypto_wallet"], "EIP-55 all caps vector: single case with context"],
  ["eth wallet: 0x8617e340b3d01fa5f11f306f4090fd50e238070d", ["crypto_wallet"], "crypto_wallet"],
  ["hash 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", [], "42 hex"],
  ["bytes32 0xabababababababababababababababababababababababababababababababab", [], "lookalike"],
  ["3FZbgi29cpjq2GjdwV8eyHuJJnkLtktZc6", [], "P2SH with the last character changed: bad checksum"],
  ["Commit 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", [], "lookalike"],
  ["I live at 221B Baker Street", [], "lookalike"],
  ["Send the contract to j.smith@lawfirm.com and call 020 7946 0123", ["email", "phone"], "email+phone"],
];
for (const [text, expect, note] of HELD_OUT) add(text, "prompt", expect, note);
// A second held-out batch, written and measured once after all tuning above.
const HELD_OUT_2: [string, string[], string][] = [
  ["Bitte überweisen Sie an AT48 3200 0000 1234 5864 bis Montag", ["iban"], "iban"],
  ["refund card ending 4242, full number 4000 0566 5566 5556", ["credit_card"], "credit_card"],
  ["Here's my JCB: 3566-0020-2036-0505", ["credit_card"], "credit_card"],
  ["Number in the DB: 5200828282828210 (debit)", ["credit_card"], "credit_card"],
  ["The sum 1234567890123452 is an account checksum test", [], "no issuer prefix"],
  ["Order total 4000.05 USD on 2024-03-02", [], "lookalike"],
  ["kubectl get pod web-7d4b9c8f6d-x2lqz", [], "lookalike"],
  ["sha256:4111111111111111aabbccddeeff00112233445566778899aabbccddeeff00", [], "lookalike"],
  ["user id 9781234567897 added", [], "13-digit id starting 97"],
  ["contact me on +1 202-555-0173 or at dana.scully@fbi.gov", ["phone", "email"], "phone+email"],
  ["Mobilnummer: 0170 1234567", ["phone"], "phone"],
  ["numéro: +33 1 23 45 67 89", ["phone"], "phone"],
  ["Chiamami al 347 123 4567", [], "Italian mobile without +; not in the national list"],
  ["Llámame al 612 34 56 78", ["phone"], "Spanish mobile 3-2-2-2"],
  ["Office +65 6123 4567", ["phone"], "phone"],
  ["call 44 20 7946 0958", [], "UK number without + or 0: ambiguous"],
  ["Invoice total: 1.234.567,89 €", [], "lookalike"],
  ["Flight LH 2024 departs 10:45, seat 12A", [], "lookalike"],
  ["Released 14.02.2024, build 2024.02.14.1", [], "lookalike"],
  ["ISSN 0317-8471", [], "lookalike"],
  ["temperature readings 21.5 22.1 23.4 24.0", [], "lookalike"],
  ["my SSN 432-12-9876 got leaked", ["us_ssn"], "us_ssn"],
  ["EIN 12-3456789 for the company", [], "employer id, 2-7 shape"],
  ["ref 432 12 9876 in the log", ["us_ssn"], "spaced SSN shape without context (scored low)"],
  ["applicant SSN: 432129876", ["us_ssn"], "us_ssn"],
  ["tax id 900-70-1234", [], "ITIN range"],
  ["ping me: ops-team@corp.example.com", ["email"], "email"],
  ["ALIAS=admin@internal", [], "no TLD"],
  ["Email: müller@beispiel.de", ["email"], "non-ASCII local part"],
  ["see node_modules/@types/node@24.1.0/index.d.ts", [], "lookalike"],
  ["from: noreply@github.com", ["email"], "email"],
  ["server 2a02:26f0:fd::5c7a:8d34", ["ip_address"], "ip_address"],
  ["the subnet 172.16.0.0/12 is private", ["ip_address"], "ip_address"],
  ["connect to 34.117.59.81 on 443", ["ip_address"], "ip_address"],
  ["tested on Ubuntu 22.04.3 LTS", [], "lookalike"],
  ["lat 51.5074, lon -0.1278", [], "lookalike"],
  ["SNMP walk 1.3.6.1.2.1.1.1.0", [], "lookalike"],
  ["::ffff:203.0.113.10 mapped", ["ip_address"], "ip_address"],
  ["DOI 10.1000/182", [], "lookalike"],
  ["pay to 0x742d35Cc6634C0532925a3b844Bc454e4438f44e", ["crypto_wallet"], "EIP-55-looking; checksum must decide"],
  ["bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh is my address", ["crypto_wallet"], "crypto_wallet"],
  ["Litecoin LcHKx8b4V9xyGqFx1qu3KzFzRJ7bP3d1GZ", [], "not a Bitcoin/Ethereum address"],
  ["merkle root 4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b", [], "lookalike"],
  ["Ship to: 742 Evergreen Terrace, Springfield, OR 97403", ["us_address"], "us_address"],
  ["HQ: 1 Hacker Way, Menlo Park, CA 94025", ["us_address"], "us_address"],
  ["Deliver to 2300 N Lincoln Ave Apt 3, Chicago, IL 60614", ["us_address"], "us_address"],
  ["We're based in Portland, OR 97201 and Austin", [], "lookalike"],
  ["Meet at 5 PM on Main St, Dallas, TX 75201", [], "no house number"],
];
for (const [text, expect, note] of HELD_OUT_2) add(text, "prompt", expect, note);

// ---- US street addresses --------------------------------------------------------------------
const STREETS = ["Main Street", "Oak Ave", "Maple Rd", "Martin Luther King Jr Blvd", "5th Avenue", "Sunset Blvd", "Elm St", "Lakeview Dr", "Cedar Ln", "Pine Ct", "Mission St", "Peachtree Rd NE"];
const CITIES: [string, string, string][] = [["Springfield", "IL", "627"], ["Austin", "TX", "787"], ["San Francisco", "CA", "941"], ["Brooklyn", "NY", "112"], ["Seattle", "WA", "981"], ["Atlanta", "GA", "303"], ["Denver", "CO", "802"], ["St. Louis", "MO", "631"], ["Winston-Salem", "NC", "271"], ["Salt Lake City", "UT", "841"]];
const usAddressLine = (k: number) => {
  const [city, state, zip3] = pick(CITIES);
  const unit = k % 4 === 1 ? pick([", Apt 4B", " Suite 200", ", Unit 12", " #7"]) : "";
  const zip = zip3 + digits(2) + (k % 5 === 2 ? "-" + digits(4) : "");
  return `${int(1, 9899)} ${pick(STREETS)}${unit}${k % 6 === 3 ? "\n" : ", "}${city}, ${state} ${zip}`;
};
const ADDRESS_TEMPLATES: [Direction, (a: string) => string][] = [
  ["prompt", (a) => `Please ship the replacement to ${a}.`],
  ["tool_args", (a) => `{"shipping_address":"${a.replace("\n", ", ")}","service":"ground"}`],
  ["tool_result", (a) => `Customer: Jane Roe\n${a}\nMember since 2019`],
  ["response", (a) => `I've updated your billing address to ${a}.`],
  ["prompt", (a) => `new address: ${a} (effective May 1)`],
];
for (let k = 0; k < 20; k++) {
  const [direction, template] = ADDRESS_TEMPLATES[k % ADDRESS_TEMPLATES.length]!;
  add(template(usAddressLine(k)), direction, ["us_address"], "US street address");
}
add("PO Box 1234, Austin, TX 78701", "prompt", ["us_address"], "PO box");
add("1600 Pennsylvania Ave NW, Washington, DC 20500", "response", ["us_address"], "directional after the suffix");
add("1585 Broadway, New York, NY 10036", "prompt", ["us_address"], "Broadway");
const ADDRESS_NEGATIVES: [string, string][] = [
  ["Our HQ is in Austin, TX 78701", "city, state and ZIP without a street"], ["Ships to CA 94105 only", "state and ZIP"],
  ["Springfield, IL 62704", "city line alone"], ["We drove 500 miles down Main St, Springfield, IL 62704", "no house number before the street"],
  ["See 10 Downing Street, London SW1A 2AA", "UK address"], ["I live at 221B Baker Street", "no city, state or ZIP"],
  ["Route 66 Road Trip, Flagstaff, AZ 86001", "title, not a street line"], ["the 3 best ways to ship, TX 75001 rules", "lower-case words"],
  ["Order 4471 Dr Smith, Boston, MA 02115", "title and name, no street suffix at the end"], ["variable CA 94105-1234 in the test fixture", "state and ZIP+4"],
  ["Sections 12 and 13, IN 46204 statute", "statute reference"], ["PO 1234, Austin, TX 78701", "purchase order, not a box"],
];
for (const [text, note] of ADDRESS_NEGATIVES) add(text, "prompt", [], note);

// ---- several kinds in one sample -----------------------------------------------------------
add(`Contact Jane at ${emailAddress()} or ${validPhone("US", PHONE_FORMATS[2]![1])}.`, "prompt", ["email", "phone"], "email and phone");
add(`Card ${formatCard(cardNumber("4", 16), 1)}, receipt to ${emailAddress()}`, "prompt", ["credit_card", "email"], "card and email");
add(`{"name":"Jane Roe","ssn":"${ssnParts().join("-")}","email":"${emailAddress()}","phone":"${validPhone("GB", PHONE_FORMATS[6]![1])}"}`, "tool_result", ["us_ssn", "email", "phone"], "record with three kinds");
add(`Login from ${publicIpv4()} by ${emailAddress()}`, "tool_result", ["ip_address", "email"], "audit line");
add(`Refund IBAN ${spaced(ibanFor("DE", digits(18)))}, questions to ${emailAddress()}`, "response", ["iban", "email"], "IBAN and email");
add(`Jane Roe, ${usAddressLine(0)}, ${validPhone("US", PHONE_FORMATS[0]![1])}`, "tool_result", ["us_address", "phone"], "address and phone");
add(`Tip jar: ${eip55(hex(40))} — or call ${validPhone("DE", PHONE_FORMATS[9]![1])}`, "response", ["crypto_wallet", "phone"], "wallet and phone");

writeFileSync(OUT, samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
const positives = samples.filter((s) => s.expect.length > 0).length;
console.log(`wrote ${samples.length} samples (${positives} positive, ${samples.length - positives} hard negative) to ${OUT.pathname}`);
