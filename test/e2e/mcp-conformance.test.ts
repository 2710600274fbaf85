import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startGatewayProxy } from "../fixtures/mcp/gateway-proxy.ts";
import { startMcpFixture, type McpFixture } from "../fixtures/mcp/server.ts";
import { startMesh, type Mesh } from "./mesh.ts";

const run = promisify(execFile);
const BASELINE = "test/conformance/baseline.yml";

let mesh: Mesh;
let fixture: McpFixture;
let proxy: Awaited<ReturnType<typeof startGatewayProxy>>;

/** `✓ tools-list: 1 passed, 0 failed` lines of the CLI's summary → scenario → passed. */
async function conformance(url: string): Promise<Map<string, boolean>> {
  const { stdout } = await run("node_modules/.bin/conformance", ["server", "--suite", "all", "--url", url], { maxBuffer: 64 * 1024 * 1024, timeout: 90_000 }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }),
  );
  const summary = stdout.slice(stdout.lastIndexOf("=== SUMMARY ==="));
  return new Map([...summary.matchAll(/^[✓✗] ([\w-]+): (\d+) passed, (\d+) failed/gm)].map((m) => [m[1]!, m[3] === "0"]));
}

beforeAll(async () => {
  [mesh, fixture] = await Promise.all([startMesh(), startMcpFixture()]);
  const acme = await mesh.createOrg("acme");
  const key = (await (await acme.api("/api-keys", { method: "POST", json: { name: "conformance" } })).json()) as { secret: string };
  const created = await acme.api("/mcp-servers", { method: "POST", json: { name: "everything", url: fixture.url } });
  expect(created.status).toBe(201);
  proxy = await startGatewayProxy(mesh, acme.host, "everything", key.secret);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await fixture?.close();
  await mesh?.close();
});

it("every conformance scenario that passes against the fixture passes through the gateway (baseline: test/conformance/baseline.yml)", async () => {
  const [direct, gateway] = await Promise.all([conformance(fixture.url), conformance(proxy.url)]);
  const expectedFailures = [...readFileSync(BASELINE, "utf8").matchAll(/^\s*-\s*([\w-]+)/gm)].map((m) => m[1]!);
  const table = [...direct.keys()].map((scenario) => `${direct.get(scenario) ? "pass" : "FAIL"}  ${gateway.get(scenario) ? "pass" : "FAIL"}  ${scenario}`);
  console.log(`conformance: direct  gateway  scenario\n${table.join("\n")}`);
  expect(direct.size).toBeGreaterThan(25);
  const regressions = [...direct].filter(([scenario, passed]) => passed && !gateway.get(scenario) && !expectedFailures.includes(scenario)).map(([s]) => s);
  expect(regressions).toEqual([]);
  const stale = expectedFailures.filter((scenario) => gateway.get(scenario));
  expect(stale).toEqual([]);
}, 120_000);
