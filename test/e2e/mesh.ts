import { createTestHarness } from "wrangler";
import { WORKER_CONFIGS } from "../../scripts/workers.ts";

export const OPERATOR_TOKEN = "alk_op_test_operator_token_for_e2e_only";
/** 32 bytes, base64: the test mesh's master key for secrets at rest. */
export const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
export const BASE = "airlock.localhost";

export type Mesh = Awaited<ReturnType<typeof startMesh>>;

export interface MeshInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  token?: string;
  /** Sent as the JSON body, with `content-type: application/json` unless a header says otherwise. */
  json?: unknown;
}

/**
 * Starts the whole mesh in workerd through wrangler's test harness, migrates D1, and
 * gives the test typed helpers that address hosts the way agents do.
 */
export async function startMesh(options: { maxBodyBytes?: number } = {}) {
  const server = createTestHarness({
    workers: WORKER_CONFIGS.map((configPath): { configPath: string; secrets: Record<string, string>; vars?: Record<string, string> } => {
      const secrets = { OPERATOR_TOKEN, MASTER_KEY };
      // Fixture model providers in the tests listen on 127.0.0.1 over http.
      if (configPath === "wrangler.toml") {
        return { configPath, secrets, vars: { ALLOW_PRIVATE_UPSTREAMS: "true", ...(options.maxBodyBytes ? { MAX_BODY_BYTES: String(options.maxBodyBytes) } : {}) } };
      }
      // Alert receivers in the tests listen on 127.0.0.1.
      if (configPath.includes("/guardrail/")) return { configPath, secrets, vars: { ALLOW_PRIVATE_DESTINATIONS: "true" } };
      // The test OpenID Provider listens on 127.0.0.1 over http. A short config-version lease keeps
      // admin writes that follow traffic quick (each waits out the leases), still exercising the wait.
      if (configPath.includes("/auth/")) return { configPath, secrets, vars: { ALLOW_PRIVATE_IDP: "true", CONFIG_LEASE_MS: "50" } };
      // Fixture MCP servers listen on 127.0.0.1 over http; a silent one is given up on after 3 s, a stalled stream after 2 s.
      if (configPath.includes("/mcp-proxy/")) return { configPath, secrets, vars: { ALLOW_PRIVATE_UPSTREAMS: "true", UPSTREAM_TIMEOUT_MS: "3000", UPSTREAM_IDLE_MS: "2000" } };
      return { configPath, secrets };
    }),
  });
  await server.listen();
  await server.getWorker("airlock-auth").applyD1Migrations("DB");

  const request = (host: string, path: string, init: MeshInit = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers["content-type"] ??= "application/json";
      body = JSON.stringify(init.json);
    }
    const streamed = body instanceof ReadableStream ? { duplex: "half" as const } : {};
    return server.fetch(`https://${host}${path}`, { method: init.method, headers, body, ...streamed });
  };

  const operator = (path: string, init: MeshInit = {}) =>
    request(`api.${BASE}`, path, { token: OPERATOR_TOKEN, ...init });

  /** Creates an org and its first owner token through the operator API. */
  async function createOrg(slug: string) {
    const created = await operator("/v1/orgs", { method: "POST", json: { slug, name: `${slug} Inc` } });
    if (created.status !== 201) throw new Error(`create org ${slug}: ${created.status} ${await created.text()}`);
    const minted = await operator(`/v1/orgs/${slug}/admin-tokens`, { method: "POST", json: { name: "owner", role: "owner" } });
    if (minted.status !== 201) throw new Error(`mint token ${slug}: ${minted.status} ${await minted.text()}`);
    const org = (await created.json()) as { id: string; slug: string };
    const { secret } = (await minted.json()) as { secret: string };
    const host = `${slug}.${BASE}`;
    return {
      ...org,
      host,
      ownerToken: secret,
      api: (path: string, init: MeshInit = {}) => request(host, `/api/v1${path}`, { token: secret, ...init }),
    };
  }

  /** Polls the audit log until an event for `requestId` is there (the queue is asynchronous). */
  async function auditEventOf(org: { api: (path: string) => Promise<{ json(): Promise<unknown> }> }, requestId: string, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const page = (await (await org.api(`/audit-events?request_id=${requestId}`)).json()) as { data: Record<string, any>[] };
      if (page.data.length > 0) return page.data[0]!;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`no audit event for request ${requestId} within ${timeoutMs} ms`);
  }

  return { server, request, operator, createOrg, auditEventOf, close: () => server.close() };
}
