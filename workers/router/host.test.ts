import { expect, it } from "vitest";
import { bearerToken } from "./authenticate.ts";
import { hostTarget } from "./host.ts";

it.each([
  ["acme.airlock.localhost:8787", { kind: "org", slug: "acme" }],
  ["ACME.Airlock.Localhost", { kind: "org", slug: "acme" }],
  ["api.airlock.localhost", { kind: "operator" }],
  ["airlock.localhost", null],
  ["a.b.airlock.localhost", null],
  ["acme.evil.test", null],
  ["-acme.airlock.localhost", null],
  ["acme.airlock.localhost.evil.test", null],
])("host %s → %j", (host, expected) => {
  expect(hostTarget(host, "airlock.localhost")).toEqual(expected);
});

it.each([
  [undefined, null],
  ["Bearer abc", "abc"],
  ["bearer   abc  ", "abc"],
  ["Basic dXNlcjpwYXNz", ""],
  ["Bearer", ""],
  ["Bearer a b", ""],
])("authorization %j → %j", (header, expected) => {
  expect(bearerToken(header)).toBe(expected);
});
