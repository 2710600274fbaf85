/**
 * The SCIM schemas Airlock serves (RFC 7643): the attributes it accepts, stores and
 * returns. One definition drives input coercion, PATCH paths, filters, projections and
 * the `/Schemas` discovery document, so what is advertised is what is honoured.
 */

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

export type AttributeType = "string" | "boolean" | "dateTime" | "reference" | "complex";

export interface Attribute {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: "readOnly" | "readWrite" | "immutable" | "writeOnly";
  returned: "always" | "default" | "never" | "request";
  uniqueness: "none" | "server" | "global";
  referenceTypes?: string[];
  canonicalValues?: string[];
  subAttributes?: Attribute[];
}

type Options = Partial<Omit<Attribute, "name" | "description" | "subAttributes">>;

const attribute = (name: string, description: string, options: Options = {}): Attribute => ({
  name,
  type: "string",
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: "readWrite",
  returned: "default",
  uniqueness: "none",
  ...options,
});

const complex = (name: string, description: string, subAttributes: Attribute[], options: Options = {}): Attribute => ({
  ...attribute(name, description, { ...options, type: "complex" }),
  subAttributes,
});

/** `value`, `display`, `type`, `primary`: the shape of emails, phone numbers, roles. */
const multiValuedKind = (name: string, description: string, types: string[]) =>
  complex(name, description, [
    attribute("value", `The ${name} value`),
    attribute("display", "A human-readable name, primarily used for display purposes"),
    attribute("type", "A label indicating the attribute's function", { canonicalValues: types }),
    attribute("primary", "Whether this is the primary value", { type: "boolean" }),
  ], { multiValued: true });

export interface Schema {
  id: string;
  name: string;
  description: string;
  attributes: Attribute[];
}

export const userSchema: Schema = {
  id: USER_SCHEMA,
  name: "User",
  description: "An Airlock user: userName is the user's email address",
  attributes: [
    attribute("userName", "The user's email address, unique in the org (stored lower-case). REQUIRED.", {
      required: true, uniqueness: "server",
    }),
    complex("name", "The components of the user's name", [
      attribute("formatted", "The full name, formatted for display"),
      attribute("familyName", "The family name"),
      attribute("givenName", "The given name"),
      attribute("middleName", "The middle name(s)"),
      attribute("honorificPrefix", "The honorific prefix(es)"),
      attribute("honorificSuffix", "The honorific suffix(es)"),
    ]),
    attribute("displayName", "The name of the user, suitable for display; Airlock shows it as the user's name"),
    attribute("nickName", "The casual way to address the user"),
    attribute("profileUrl", "A URI of the user's online profile", { type: "reference", referenceTypes: ["external"] }),
    attribute("title", "The user's title, such as \"Vice President\""),
    attribute("userType", "The relationship between the organization and the user"),
    attribute("preferredLanguage", "The user's preferred written or spoken language"),
    attribute("locale", "The user's default location"),
    attribute("timezone", "The user's time zone in IANA format"),
    attribute("active", "Whether the user may use Airlock; false revokes access on the user's next request", { type: "boolean" }),
    multiValuedKind("emails", "Email addresses for the user", ["work", "home", "other"]),
    multiValuedKind("phoneNumbers", "Phone numbers for the user", ["work", "home", "mobile", "fax", "pager", "other"]),
    complex("addresses", "Physical mailing addresses for the user", [
      attribute("formatted", "The full mailing address"),
      attribute("streetAddress", "The full street address component"),
      attribute("locality", "The city or locality component"),
      attribute("region", "The state or region component"),
      attribute("postalCode", "The zip code or postal code component"),
      attribute("country", "The country name component"),
      attribute("type", "A label indicating the attribute's function", { canonicalValues: ["work", "home", "other"] }),
      attribute("primary", "Whether this is the primary address", { type: "boolean" }),
    ], { multiValued: true }),
    multiValuedKind("roles", "Roles for the user, as the provisioning client names them (kept, not used for authorization)", []),
    complex("groups", "The Airlock teams the user belongs to (managed through Groups)", [
      attribute("value", "The id of the team", { mutability: "readOnly" }),
      attribute("$ref", "The URI of the Group resource", { type: "reference", referenceTypes: ["Group"], mutability: "readOnly" }),
      attribute("display", "The team's display name", { mutability: "readOnly" }),
      attribute("type", "Always \"direct\"", { mutability: "readOnly", canonicalValues: ["direct"] }),
    ], { multiValued: true, mutability: "readOnly" }),
  ],
};

export const enterpriseUserSchema: Schema = {
  id: ENTERPRISE_USER_SCHEMA,
  name: "EnterpriseUser",
  description: "Enterprise User",
  attributes: [
    attribute("employeeNumber", "Identifier assigned to the person by the organization"),
    attribute("costCenter", "Name of a cost center"),
    attribute("organization", "Name of an organization"),
    attribute("division", "Name of a division"),
    attribute("department", "Name of a department"),
    complex("manager", "The user's manager", [
      attribute("value", "The id of the manager's User resource"),
      attribute("$ref", "The URI of the manager's User resource", { type: "reference", referenceTypes: ["User"] }),
      attribute("displayName", "The manager's display name", { mutability: "readOnly" }),
    ]),
  ],
};

export const groupSchema: Schema = {
  id: GROUP_SCHEMA,
  name: "Group",
  description: "A group of users: an Airlock team (its name is a slug of displayName)",
  attributes: [
    attribute("displayName", "The group's name, unique in the org. REQUIRED.", { required: true, uniqueness: "server" }),
    complex("members", "The members of the group (users of this org)", [
      attribute("value", "The id of the member's User resource", { mutability: "immutable" }),
      attribute("$ref", "The URI of the member's User resource", { type: "reference", referenceTypes: ["User"], mutability: "immutable" }),
      attribute("display", "The member's userName", { mutability: "readOnly" }),
      attribute("type", "The type of member", { mutability: "immutable", canonicalValues: ["User"] }),
    ], { multiValued: true }),
  ],
};

/** Attributes every resource has (RFC 7643 §3.1); they are not part of any schema's list. */
export const commonAttributes: Attribute[] = [
  attribute("id", "Airlock's identifier for the resource", { caseExact: true, mutability: "readOnly", returned: "always", uniqueness: "server" }),
  attribute("externalId", "The provisioning client's identifier for the resource", { caseExact: true }),
  complex("meta", "Resource metadata", [
    attribute("resourceType", "The resource type", { caseExact: true, mutability: "readOnly" }),
    attribute("created", "When the resource was added", { type: "dateTime", mutability: "readOnly" }),
    attribute("lastModified", "When the resource was last modified", { type: "dateTime", mutability: "readOnly" }),
    attribute("location", "The URI of the resource", { type: "reference", caseExact: true, mutability: "readOnly" }),
    attribute("version", "The resource's entity tag", { caseExact: true, mutability: "readOnly" }),
  ], { mutability: "readOnly" }),
];

export interface ResourceType {
  name: "User" | "Group";
  endpoint: "/Users" | "/Groups";
  schema: Schema;
  extensions: Schema[];
}

export const USER: ResourceType = { name: "User", endpoint: "/Users", schema: userSchema, extensions: [enterpriseUserSchema] };
export const GROUP: ResourceType = { name: "Group", endpoint: "/Groups", schema: groupSchema, extensions: [] };

const lower = (text: string) => text.toLowerCase();

export function findAttribute(attributes: readonly Attribute[], name: string): Attribute | undefined {
  const wanted = lower(name);
  return attributes.find((a) => lower(a.name) === wanted);
}

export function findExtension(type: ResourceType, urn: string): Schema | undefined {
  const wanted = lower(urn);
  return type.extensions.find((s) => lower(s.id) === wanted);
}

/**
 * An attribute path split into its parts: `name.givenName`, `emails`,
 * `urn:…:enterprise:2.0:User:manager.value`, or a whole extension (`urn:…:User`).
 * The core schema's URN may prefix core attributes. Names are matched case-insensitively
 * and returned canonical; an unknown attribute is `undefined`.
 */
export interface ResolvedPath {
  /** The extension holding the attribute, or null for core and common attributes. */
  extension: Schema | null;
  /** Null when the path names a whole extension. */
  attribute: Attribute | null;
  sub: Attribute | null;
}

export function resolvePath(type: ResourceType, path: string): ResolvedPath | undefined {
  let rest = path;
  let extension: Schema | null = null;
  if (lower(path).startsWith("urn:")) {
    const schemas = [type.schema, ...type.extensions];
    const schema = schemas.find((s) => lower(path) === lower(s.id) || lower(path).startsWith(`${lower(s.id)}:`));
    if (!schema) return undefined;
    if (schema !== type.schema) extension = schema;
    if (path.length === schema.id.length) return extension ? { extension, attribute: null, sub: null } : undefined;
    rest = path.slice(schema.id.length + 1);
  }
  const [name, subName, ...more] = rest.split(".");
  if (!name || more.length > 0) return undefined;
  const candidates = extension ? extension.attributes : [...commonAttributes, ...type.schema.attributes];
  const found = findAttribute(candidates, name);
  if (!found) return undefined;
  if (subName === undefined) return { extension, attribute: found, sub: null };
  const sub = findAttribute(found.subAttributes ?? [], subName);
  return sub ? { extension, attribute: found, sub } : undefined;
}

/** The object an attribute of `resolved` lives in: the resource itself or its extension object. */
export function containerOf(doc: Record<string, unknown>, resolved: ResolvedPath, create: boolean): Record<string, unknown> | undefined {
  if (!resolved.extension) return doc;
  const existing = doc[resolved.extension.id];
  if (isObject(existing)) return existing;
  if (!create) return undefined;
  const created: Record<string, unknown> = {};
  doc[resolved.extension.id] = created;
  return created;
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The `/Schemas` representation of a schema (RFC 7643 §7). */
export function schemaResource(schema: Schema, baseUrl: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes,
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export function resourceTypeResource(type: ResourceType, baseUrl: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: type.name,
    name: type.name,
    endpoint: type.endpoint,
    description: type.name === "User" ? "Airlock users" : "Airlock teams",
    schema: type.schema.id,
    schemaExtensions: type.extensions.map((s) => ({ schema: s.id, required: false })),
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/${type.name}` },
  };
}

/** What this server supports (RFC 7643 §5); every `supported: true` here is implemented. */
export function serviceProviderConfig(baseUrl: string, maxResults: number) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Bearer token",
        description: "The org's SCIM token (alk_scim_…), rotated with POST /api/v1/scim-token",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${baseUrl}/ServiceProviderConfig` },
  };
}
