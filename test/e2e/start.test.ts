import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { devRequest } from "../../scripts/dev/https-client.ts";

/**
 * `npm start` as a new user runs it: HTTPS with the dev CA, the seeded org, the printed
 * token working with curl's URL, and a second start keeping the data. Runs on its own
 * port and state directory so it never touches a developer's running copy.
 */
const root = new URL("../../", import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), "airlock-start-"));
let running: ChildProcess | undefined;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function start(port: number): Promise<string> {
  const child = spawn("npm", ["start"], {
    cwd: root,
    env: { ...process.env, AIRLOCK_PORT: String(port), AIRLOCK_STATE_DIR: stateDir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running = child;
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 120_000;
  while (!/Ready in [\d.]+ s/.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start not ready in 120 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return output;
}

async function stop() {
  if (!running || running.exitCode !== null) return;
  const exited = once(running, "exit");
  process.kill(-running.pid!, "SIGTERM");
  await exited;
}

afterAll(async () => {
  await stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("serves the seeded org over HTTPS, prints its token once, and keeps data across restarts", async () => {
    const port = await freePort();
    const first = await start(port);
    const token = /alk_adm_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}/.exec(first)?.[0];
    expect(token, first).toBeDefined();
    const caPath = join(root, ".airlock/dev-ca/ca.pem");
    expect(first).toContain(caPath);
    const ca = readFileSync(caPath, "utf8");
    const api = (path: string, json?: unknown) =>
      devRequest(`https://acme.airlock.localhost:${port}/api/v1${path}`, ca, { headers: { authorization: `Bearer ${token}` }, json });

    expect((await api("/teams")).status).toBe(200);
    expect((await api("/teams", { name: "kept" })).status).toBe(201);
    await stop();

    const second = await start(port);
    expect(second).toContain("already seeded");
    expect(second).not.toMatch(/alk_adm_[0-9A-Z]{26}_/);
    const teams = await api("/teams");
    expect(teams.status).toBe(200);
    expect(JSON.parse(teams.body).data.map((t: { name: string }) => t.name)).toContain("kept");
  }, 300_000);
});
