import { describe, expect, it } from "vitest";
import { ScimError } from "./errors.ts";
import { applyPatch, PatchRequest, type PatchOperation } from "./patch.ts";
import { ENTERPRISE_USER_SCHEMA, GROUP, USER } from "./schema.ts";

const user = () => ({
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  id: "01JUSER",
  userName: "ada@acme.test",
  name: { givenName: "Ada", familyName: "Lovelace" },
  emails: [{ value: "ada@acme.test", type: "work", primary: true }],
  active: true,
  meta: { resourceType: "User" },
});
const group = () => ({
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  id: "01JGROUP",
  displayName: "SRE",
  members: [{ value: "u1", display: "a@acme.test" }, { value: "u2" }],
});

/** Operations as a client sends them, validated as the handler does. */
const ops = (...operations: unknown[]): PatchOperation[] =>
  PatchRequest.parse({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: operations }).Operations;

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof ScimError ? { status: error.status, scimType: error.scimType } : error;
  }
  return null;
};

describe("SCIM PATCH (RFC 7644 §3.5.2)", () => {
  it("deactivates with Okta's path-less replace and with Entra's capitalised op and string boolean", () => {
    expect(applyPatch(USER, user(), ops({ op: "replace", value: { active: false } })).active).toBe(false);
    expect(applyPatch(USER, user(), ops({ op: "Replace", path: "active", value: "False" })).active).toBe(false);
    expect(applyPatch(USER, { ...user(), active: false }, ops({ op: "Replace", path: "active", value: "True" })).active).toBe(true);
  });

  it("takes Entra's path-less replace whose keys are paths: dotted sub-attributes and extension URNs", () => {
    const patched = applyPatch(USER, user(), ops(
      { op: "replace", path: 'emails[type eq "work"].value', value: "new@acme.test" },
      {
        op: "replace",
        value: { displayName: "Bjfe", "name.givenName": "Kkom", [`${ENTERPRISE_USER_SCHEMA}:employeeNumber`]: "Aklq" },
      },
    ));
    expect(patched).toMatchObject({
      displayName: "Bjfe",
      name: { givenName: "Kkom", familyName: "Lovelace" },
      emails: [{ value: "new@acme.test", type: "work", primary: true }],
      [ENTERPRISE_USER_SCHEMA]: { employeeNumber: "Aklq" },
    });
  });

  it("adds the element an equality filter describes when none matches (Entra setting a work phone)", () => {
    const patched = applyPatch(USER, user(), ops({ op: "Add", path: 'phoneNumbers[type eq "mobile"].value', value: "+1 555 0100" }));
    expect(patched.phoneNumbers).toEqual([{ type: "mobile", value: "+1 555 0100" }]);
    expect(refusal(() => applyPatch(USER, user(), ops({ op: "replace", path: 'emails[value co "x"].type', value: "home" })))).toEqual({
      status: 400, scimType: "noTarget",
    });
  });

  it("merges a complex value and leaves unnamed sub-attributes alone; removes a sub-attribute", () => {
    const merged = applyPatch(USER, user(), ops({ op: "replace", path: "name", value: { familyName: "Byron" } }));
    expect(merged.name).toEqual({ givenName: "Ada", familyName: "Byron" });
    const removed = applyPatch(USER, user(), ops({ op: "remove", path: "name.givenName" }));
    expect(removed.name).toEqual({ familyName: "Lovelace" });
  });

  it("adds to and replaces multi-valued attributes without duplicating values", () => {
    const added = applyPatch(USER, user(), ops({ op: "add", path: "emails", value: [{ value: "ada@acme.test", type: "work", primary: true }, { value: "x@home.test", type: "home" }] }));
    expect(added.emails).toHaveLength(2);
    const replaced = applyPatch(USER, user(), ops({ op: "replace", path: "emails", value: [{ value: "only@acme.test" }] }));
    expect(replaced.emails).toEqual([{ value: "only@acme.test" }]);
  });

  it("adds and removes group members: Okta's filter path, Entra's value list, and remove-all", () => {
    const okta = applyPatch(GROUP, group(), ops(
      { op: "remove", path: 'members[value eq "u1"]' },
      { op: "add", path: "members", value: [{ value: "u3", display: "c@acme.test" }] },
    ));
    expect((okta.members as { value: string }[]).map((m) => m.value)).toEqual(["u2", "u3"]);
    const entra = applyPatch(GROUP, group(), ops({ op: "Remove", path: "members", value: [{ $ref: null, value: "u2" }] }));
    expect((entra.members as { value: string }[]).map((m) => m.value)).toEqual(["u1"]);
    expect(applyPatch(GROUP, group(), ops({ op: "remove", path: "members" }))).not.toHaveProperty("members");
    // Removing a member that is already gone is not an error: IdPs retry.
    expect(applyPatch(GROUP, group(), ops({ op: "remove", path: 'members[value eq "nobody"]' })).members).toHaveLength(2);
  });

  it("renames a group with Okta's path-less replace that repeats the group's id", () => {
    const patched = applyPatch(GROUP, group(), ops({ op: "replace", value: { id: "01JGROUP", displayName: "Site Reliability" } }));
    expect(patched.displayName).toBe("Site Reliability");
  });

  it.each([
    [{ op: "replace", path: "id", value: "other" }, "mutability"],
    [{ op: "replace", value: { id: "someone-else" } }, "mutability"],
    [{ op: "add", path: "groups", value: [{ value: "g" }] }, "mutability"],
    [{ op: "replace", path: "meta.created", value: "2020-01-01T00:00:00Z" }, "mutability"],
    [{ op: "remove" }, "noTarget"],
    [{ op: "replace", path: "shoeSize", value: 42 }, "invalidPath"],
    [{ op: "replace", path: 'emails[type eq "work"', value: "x" }, "invalidPath"],
    [{ op: "replace", path: 'emails[type eq].value', value: "x" }, "invalidPath"],
    [{ op: "replace", path: "emails.value", value: "x" }, "invalidPath"],
    [{ op: "replace", path: 'userName[value eq "x"]', value: "x" }, "invalidPath"],
    [{ op: "replace", path: "active", value: "maybe" }, "invalidValue"],
    [{ op: "add", value: "not an object" }, "invalidValue"],
  ])("refuses %j with %s", (operation, scimType) => {
    expect(refusal(() => applyPatch(USER, user(), ops(operation)))).toEqual({ status: 400, scimType });
  });

  it("fails as a whole: a bad operation after a good one changes nothing", () => {
    const before = user();
    expect(refusal(() => applyPatch(USER, before, ops({ op: "replace", path: "active", value: false }, { op: "replace", path: "id", value: "x" })))).toMatchObject({ scimType: "mutability" });
    expect(before.active).toBe(true);
  });

  it("validates the PatchOp envelope", () => {
    const envelope = (body: unknown) => PatchRequest.safeParse(body).success;
    expect(envelope({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "move", path: "x" }] })).toBe(false);
    expect(envelope({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], Operations: [{ op: "add", path: "x" }] })).toBe(false);
    expect(envelope({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [] })).toBe(false);
  });
});
