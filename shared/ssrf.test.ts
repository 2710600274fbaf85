import { describe, expect, it } from "vitest";
import { assertPublicUrl, UnsafeUrlError } from "./ssrf.ts";

const strict = { allowPrivate: false };
const refusal = (url: string, policy = strict) => {
  try {
    assertPublicUrl(url, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafeUrlError);
    return (error as Error).message;
  }
  return null;
};

describe("assertPublicUrl", () => {
  it.each([
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "https://events.pagerduty.com/v2/enqueue",
    "https://http-intake.logs.datadoghq.eu/api/v2/logs",
    "https://splunk.example.com:8088/services/collector/event",
    "https://8.8.8.8/",
    "https://172.32.0.1/",
    "https://100.128.0.1/",
    "https://[2606:4700:4700::1111]/",
    "https://[::ffff:8.8.8.8]/",
    "https://[2002:808:808::]/",
  ])("accepts %s", (url) => {
    expect(refusal(url)).toBeNull();
    expect(assertPublicUrl(url, strict)).toBeInstanceOf(URL);
  });

  it.each([
    ["http://example.com/hook", "must use https"],
    ["ftp://example.com/", "must use https"],
    ["file:///etc/passwd", "must use https"],
    ["javascript:alert(1)", "must use https"],
    ["not a url", "not a valid absolute URL"],
    ["https://user:pass@example.com/", "user name or password"],
    ["https://token@example.com/", "user name or password"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(refusal(url)).toContain(reason);
  });

  it.each([
    // Loopback in every spelling the URL parser folds to 127.0.0.1.
    ["https://127.0.0.1/", "loopback"],
    ["https://127.1/", "loopback"],
    ["https://2130706433/", "loopback"],
    ["https://0x7f000001/", "loopback"],
    ["https://0x7f.0.0.1/", "loopback"],
    ["https://0177.0.0.1/", "loopback"],
    ["https://017700000001/", "loopback"],
    ["https://0/", "0.0.0.0/8"],
    ["https://0.0.0.0/", "0.0.0.0/8"],
    ["https://10.1.2.3/", "private"],
    ["https://172.16.0.1/", "private"],
    ["https://172.31.255.255/", "private"],
    ["https://192.168.1.1/", "private"],
    ["https://100.64.0.1/", "carrier-grade NAT"],
    ["https://169.254.169.254/latest/meta-data/", "metadata"],
    ["https://0xa9fea9fe/", "metadata"],
    ["https://169.254.10.1/", "link-local"],
    ["https://224.0.0.1/", "multicast"],
    ["https://255.255.255.255/", "broadcast"],
    ["https://240.0.0.1/", "reserved"],
    ["https://[::1]/", "loopback"],
    ["https://[0:0:0:0:0:0:0:1]/", "loopback"],
    ["https://[::]/", "unspecified"],
    ["https://[::ffff:127.0.0.1]/", "loopback"],
    ["https://[::ffff:7f00:1]/", "loopback"],
    ["https://[::ffff:169.254.169.254]/", "metadata"],
    ["https://[::127.0.0.1]/", "loopback"],
    ["https://[64:ff9b::10.0.0.1]/", "private"],
    ["https://[2002:7f00:1::]/", "loopback"],
    ["https://[fd00:ec2::254]/", "metadata"],
    ["https://[fc00::1]/", "unique-local"],
    ["https://[fd12:3456::1]/", "unique-local"],
    ["https://[fe80::1]/", "link-local"],
    ["https://[febf::1]/", "link-local"],
    ["https://[ff02::1]/", "multicast"],
    ["https://[2001:db8::1]/", "documentation"],
    ["https://[2001:0:4136:e378::1]/", "Teredo"],
    ["https://localhost/", "local or internal"],
    ["https://LOCALHOST./", "local or internal"],
    ["https://%6c%6fcalhost/", "local or internal"],
    ["https://evil.localhost/", "local or internal"],
    ["https://metadata.google.internal/computeMetadata/v1/", "local or internal"],
    ["https://db.corp.internal/", "local or internal"],
    ["https://printer.local/", "local or internal"],
    ["https://router.home.arpa/", "local or internal"],
    ["https://metadata/", "not a fully qualified"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(refusal(url)).toContain(reason);
  });

  it("never echoes the path or query, which may hold a token", () => {
    const message = refusal("https://10.0.0.1/services/T000/B000/s3cr3t-token?key=k3y");
    expect(message).not.toContain("s3cr3t");
    expect(message).not.toContain("k3y");
  });

  it("allows http and private hosts only when told to (local development), never credentials", () => {
    const dev = { allowPrivate: true };
    expect(refusal("http://127.0.0.1:8080/hook", dev)).toBeNull();
    expect(refusal("https://localhost/hook", dev)).toBeNull();
    expect(refusal("http://user:pw@127.0.0.1/", dev)).toContain("user name or password");
    expect(refusal("ftp://127.0.0.1/", dev)).toContain("http or https");
  });
});
