import { describe, expect, it } from "vitest";
import { ScimError } from "./errors.ts";
import { compileFilter, parseFilter, requiredEqualities, resourceScope } from "./filter.ts";
import { ENTERPRISE_USER_SCHEMA, GROUP, USER } from "./schema.ts";

const ada = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  id: "01JADA",
  externalId: "00uAda",
  userName: "ada@acme.test",
  name: { givenName: "Ada", familyName: "Lovelace" },
  emails: [
    { value: "ada@acme.test", type: "work", primary: true },
    { value: "ada@home.test", type: "home" },
  ],
  active: true,
  [ENTERPRISE_USER_SCHEMA]: { department: "Engineering", employeeNumber: "42" },
  meta: { created: "2026-01-10T10:00:00.000Z", lastModified: "2026-02-01T10:00:00.000Z" },
};

const matches = (filter: string, resource: Record<string, unknown> = ada) => compileFilter(parseFilter(filter), resourceScope(USER))(resource);
const refusal = (filter: string) => {
  try {
    compileFilter(parseFilter(filter), resourceScope(USER));
  } catch (error) {
    return error instanceof ScimError ? { status: error.status, scimType: error.scimType } : error;
  }
  return null;
};

describe("SCIM filters (RFC 7644 §3.4.2.2)", () => {
  it("compare userName case-insensitively and externalId exactly (caseExact)", () => {
    expect(matches('userName eq "ADA@acme.test"')).toBe(true);
    expect(matches('UserName Eq "ada@acme.test"')).toBe(true);
    expect(matches('externalId eq "00uAda"')).toBe(true);
    expect(matches('externalId eq "00uada"')).toBe(false);
  });

  it("evaluate co, sw, ew, ne, pr, not, and, or and precedence", () => {
    expect(matches('userName co "acme"')).toBe(true);
    expect(matches('userName sw "ada@"')).toBe(true);
    expect(matches('userName ew ".test"')).toBe(true);
    expect(matches('userName ne "bob@acme.test"')).toBe(true);
    expect(matches("title pr")).toBe(false);
    expect(matches("name.givenName pr")).toBe(true);
    expect(matches('not (userName eq "ada@acme.test")')).toBe(false);
    expect(matches('userName eq "bob@acme.test" or name.familyName eq "lovelace" and active eq true')).toBe(true);
    expect(matches('(userName eq "bob@acme.test" or name.familyName eq "lovelace") and active eq false')).toBe(false);
  });

  it("match multi-valued attributes on any value, with value filters and the implied value sub-attribute", () => {
    expect(matches('emails.value eq "ada@home.test"')).toBe(true);
    expect(matches('emails co "home"')).toBe(true);
    expect(matches('emails[type eq "work" and value ew "acme.test"]')).toBe(true);
    expect(matches('emails[type eq "work"].value eq "ada@acme.test"')).toBe(true);
    expect(matches('emails[type eq "other"]')).toBe(false);
  });

  it("reach the enterprise extension by its URN, and compare dateTimes as instants", () => {
    expect(matches(`${ENTERPRISE_USER_SCHEMA}:department eq "engineering"`)).toBe(true);
    expect(matches("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"ada\"")).toBe(true);
    expect(matches('meta.lastModified gt "2026-01-15T00:00:00Z"')).toBe(true);
    expect(matches('meta.created ge "2026-01-10T11:00:00+02:00"')).toBe(true);
  });

  it("treat null as absence", () => {
    expect(matches("title eq null")).toBe(true);
    expect(matches("externalId ne null")).toBe(true);
  });

  it.each([
    'userName eq',
    'userName eq "unterminated',
    "userName eq unquoted",
    'userName xx "a"',
    '(userName eq "a"',
    'emails[type eq "work"',
    "",
    "a".repeat(3000),
  ])("refuse malformed %j with 400 invalidFilter", (filter) => {
    expect(refusal(filter)).toEqual({ status: 400, scimType: "invalidFilter" });
  });

  it.each([
    'nickname2 eq "x"',
    'name eq "Ada"',
    "active gt true",
    'active eq "yes"',
    'meta.created gt "yesterday"',
    'userName[value eq "x"]',
    'emails[kind eq "work"]',
  ])("refuse %j (unknown attribute or unsupported comparison) with 400 invalidFilter", (filter) => {
    expect(refusal(filter)).toEqual({ status: 400, scimType: "invalidFilter" });
  });

  it("lists the eq conditions every match must satisfy, for SQL narrowing", () => {
    expect(requiredEqualities(parseFilter('userName eq "a" and (active eq true or title pr) and externalId eq "x"'))).toEqual([
      { attrPath: "userName", value: "a" },
      { attrPath: "externalId", value: "x" },
    ]);
    expect(requiredEqualities(parseFilter('userName eq "a" or externalId eq "x"'))).toEqual([]);
  });

  it("evaluate Group members by value", () => {
    const group = { id: "g1", displayName: "SRE", members: [{ value: "u1" }, { value: "u2" }] };
    const scope = resourceScope(GROUP);
    expect(compileFilter(parseFilter('members[value eq "u2"]'), scope)(group)).toBe(true);
    expect(compileFilter(parseFilter('id eq "g1" and members.value eq "u3"'), scope)(group)).toBe(false);
    expect(compileFilter(parseFilter('displayName eq "sre"'), scope)(group)).toBe(true);
  });
});
