import { describe, expect, it } from "vitest";
import { ipAddress, parseIpv6 } from "./ip-address.ts";
import { ADVERSARIAL, found, run } from "./test-utils.ts";

describe("ip_address", () => {
  it("finds IPv4 addresses, with ports and prefixes", () => {
    expect(found(ipAddress, "from 81.2.69.142 port 52144; allow 8.8.8.8/32 and 1.1.1.1:53.")).toEqual(["81.2.69.142", "8.8.8.8", "1.1.1.1"]);
  });

  it("finds IPv6 in full, compressed, bracketed and IPv4-embedded forms", () => {
    expect(found(ipAddress, "inet6 2a03:2880:f12f:83:face:b00c:0:25de prefixlen 64")).toEqual(["2a03:2880:f12f:83:face:b00c:0:25de"]);
    expect(found(ipAddress, "dns 2606:4700:4700::1111, peer [2001:db8::1]:443, mapped ::ffff:192.0.2.1.")).toEqual([
      "2606:4700:4700::1111",
      "2001:db8::1",
      "::ffff:192.0.2.1",
    ]);
    expect(parseIpv6("2001:db8::1")).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("1:2:3:4:5:6:7:8:9")).toBeUndefined();
  });

  it("scores private, loopback and documentation addresses below public ones", () => {
    const [priv, pub, loop6] = run(ipAddress, "10.0.0.1 8.8.8.8 ::1");
    expect(priv!.score).toBeLessThan(pub!.score);
    expect(loop6!.score).toBeLessThan(pub!.score);
    expect(pub!.score).toBeGreaterThanOrEqual(0.8);
  });

  it("leaves versions, OIDs, section numbers, times, MACs and code alone", () => {
    for (const text of [
      "upgrade from 1.2.3.4.5",
      "OID 1.3.6.1.4.1.311",
      "version 1.2.3.4 of the driver",
      "see section 4.2.1.3",
      "v10.0.0.1",
      "256.1.1.1 and 01.02.03.04",
      "at 12:30:45",
      "MAC 00:1A:2B:3C:4D:5E",
      "std::vector<int> v; data[100::2]; Foo::Bar",
      "cafe:babe and dead:beef",
      "1.2.3.4-rc.1 and 11.3.244.8-node.9",
      "      // 4.2.6.1\n      if (x) {",
    ]) {
      expect(found(ipAddress, text), text).toEqual([]);
    }
  });

  it("stays linear on adversarial input", () => {
    for (const text of Object.values(ADVERSARIAL)) run(ipAddress, text);
    expect(run(ipAddress, "1.1.1.1.".repeat(12_500))).toEqual([]);
    expect(run(ipAddress, "ab::".repeat(25_000))).toEqual([]);
  });
});
