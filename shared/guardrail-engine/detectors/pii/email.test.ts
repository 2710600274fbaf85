import { describe, expect, it } from "vitest";
import { email } from "./email.ts";
import { ADVERSARIAL, found, run } from "./test-utils.ts";

describe("email", () => {
  it("finds addresses in prose, headers, JSON and links", () => {
    expect(found(email, "Send it to jane.roe@acme.io.")).toEqual(["jane.roe@acme.io"]);
    expect(found(email, 'From: Jane <jane+news@mail.acme.co.uk>')).toEqual(["jane+news@mail.acme.co.uk"]);
    expect(found(email, '{"to":["a_b@x-y.travel"]}')).toEqual(["a_b@x-y.travel"]);
    expect(found(email, "mailto:SUPPORT@ACME.IO")).toEqual(["SUPPORT@ACME.IO"]);
    expect(found(email, "cc: jane@acme.io;bob@globex.com")).toEqual(["jane@acme.io", "bob@globex.com"]);
    expect(found(email, "Email: müller@beispiel.de, info@münchen.de")).toEqual(["müller@beispiel.de", "info@münchen.de"]);
    expect(found(email, "連絡先はjane@acme.ioです")).toEqual(["jane@acme.io"]);
  });

  it("keeps placeholder domains as findings, scored lower", () => {
    const [m] = run(email, "const admin = 'user@example.com'");
    expect(m!.score).toBeLessThan(run(email, "jane@acme.io")[0]!.score);
    expect(m!.score).toBeGreaterThanOrEqual(0.5);
  });

  it("leaves file names, package specifiers, SSH remotes and URL credentials alone", () => {
    for (const text of [
      "icon@2x.png",
      "npm i @scope/pkg@1.2.3",
      "user@localhost",
      "git clone git@github.com:acme/airlock.git",
      "docker pull nginx@sha256:0d17b565",
      "https://cdn.jsdelivr.net/npm/lodash@4.17.21/lodash.min.js",
      "ftp://anonymous:guest@ftp.acme.org/pub",
      "https://jane@github.com/acme/repo.git",
      "x@y.z",
      "a@b.c0m",
      "jane.@acme.io",
      "@Override",
    ]) {
      expect(found(email, text), text).toEqual([]);
    }
  });

  it("declares '@' as its prefilter keyword", () => {
    expect(email.keywords).toEqual(["@"]);
  });

  it("stays linear on adversarial input", () => {
    for (const text of Object.values(ADVERSARIAL)) run(email, text);
    // Only the first is outside a URL authority (every later one follows a `//`).
    expect(run(email, ":ab@cd.ef//".repeat(9_000))).toHaveLength(1);
    expect(run(email, `${"a".repeat(100_000)}@acme.io`)).toEqual([]);
  });
});
