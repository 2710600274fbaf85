import { devRequest, type DevResponse } from "./https-client.ts";

export interface SeedTarget {
  /** The platform operator API, e.g. https://api.airlock.localhost:8787 */
  apiOrigin: string;
  /** Where org acme answers, e.g. https://acme.airlock.localhost:8787 */
  orgOrigin: string;
  ca: string;
  caPath: string;
  operatorToken: string;
  /** The file holding OPERATOR_TOKEN, named in the hint to mint another admin token. */
  devVarsPath: string;
}

const ORG = { slug: "acme", name: "Acme Corp" };

/** Creates org acme and an owner admin token unless acme exists. Returns what to tell the developer. */
export async function seedAcme(target: SeedTarget): Promise<string> {
  const operator = (path: string, json?: unknown): Promise<DevResponse> =>
    devRequest(`${target.apiOrigin}${path}`, target.ca, {
      headers: { authorization: `Bearer ${target.operatorToken}` },
      json,
    });

  const existing = await operator(`/v1/orgs/${ORG.slug}`);
  if (existing.status === 200) {
    return [
      `Org "${ORG.slug}" is already seeded (its admin token was printed on the first run). To mint another:`,
      `  curl --cacert ${target.caPath} ${target.apiOrigin}/v1/orgs/${ORG.slug}/admin-tokens \\`,
      `    -H "authorization: Bearer $(sed -n 's/^OPERATOR_TOKEN=//p' ${target.devVarsPath})" \\`,
      `    -H "content-type: application/json" -d '{"name":"dev","role":"owner"}'`,
    ].join("\n");
  }
  expectStatus(existing, 404, `GET /v1/orgs/${ORG.slug}`);
  expectStatus(await operator("/v1/orgs", ORG), 201, "POST /v1/orgs");
  const minted = await operator(`/v1/orgs/${ORG.slug}/admin-tokens`, { name: "dev seed", role: "owner" });
  expectStatus(minted, 201, `POST /v1/orgs/${ORG.slug}/admin-tokens`);
  const token = (JSON.parse(minted.body) as { secret: string }).secret;
  return [
    `Seeded org "${ORG.slug}". Its owner admin token, shown only this once:`,
    ``,
    `  ${token}`,
    ``,
    `Try it:`,
    `  curl --cacert ${target.caPath} ${target.orgOrigin}/api/v1/teams -H "authorization: Bearer ${token}"`,
  ].join("\n");
}

function expectStatus(res: DevResponse, status: number, what: string): void {
  if (res.status !== status) throw new Error(`seeding: ${what} answered ${res.status}, expected ${status}: ${res.body}`);
}
