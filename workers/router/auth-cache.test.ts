import { describe, expect, it } from "vitest";
import type { Principal } from "../../shared/principal.ts";
import type { AuthenticateInput, AuthResult, AuthRpc } from "../../shared/rpc.ts";
import { authenticateCached } from "./auth-cache.ts";

const ORG = { id: "org_1", slug: "acme", name: "Acme" };
const principal: Principal = { kind: "api_key", org_id: ORG.id, org_slug: "acme", credential_id: "k1", user_id: "u1", email: null, teams: [], roles: [], client: { name: "unknown" } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An airlock-auth stand-in: answers what `answer` says at the time of the call, and counts calls. */
function fakeAuth(answer: (input: AuthenticateInput) => AuthResult) {
  const calls: AuthenticateInput[] = [];
  const auth = { authenticate: async (input: AuthenticateInput) => (calls.push(input), answer(input)) } as unknown as AuthRpc;
  return { auth, calls };
}

const fresh = (ms: number): AuthResult => ({ ok: true, org: ORG, principal: { ...principal }, configVersion: 3, fresh_until: Date.now() + ms });
let seq = 0;
/** Each test its own credential: the cache lives for the isolate. */
const input = (over: Partial<AuthenticateInput> = {}): AuthenticateInput => ({ host: { kind: "org", slug: "acme" }, credential: `alk_test_${++seq}`, userAgent: "claude-code/2.0", resource: "https://acme.airlock.localhost/mcp/demo", ...over });
const background: Promise<unknown>[] = [];
const waitUntil = (promise: Promise<unknown>) => void background.push(promise);

describe("authenticateCached", () => {
  it("reuses an answer until its fresh_until, then asks airlock-auth again", async () => {
    const { auth, calls } = fakeAuth(() => fresh(120));
    const asked = input();
    const first = await authenticateCached(auth, asked, waitUntil);
    expect(await authenticateCached(auth, asked, waitUntil)).toEqual(first);
    expect(calls).toHaveLength(1);
    await sleep(150);
    await authenticateCached(auth, asked, waitUntil);
    expect(calls).toHaveLength(2);
  });

  it("never reuses a refusal, nor an answer that gives no fresh_until", async () => {
    let answer: AuthResult = { ok: false, org: ORG, code: "credential_revoked", detail: "The credential has been revoked" };
    const { auth, calls } = fakeAuth(() => answer);
    const asked = input();
    await authenticateCached(auth, asked, waitUntil);
    await authenticateCached(auth, asked, waitUntil);
    answer = { ok: true, org: ORG, principal: { ...principal }, configVersion: 3 };
    await authenticateCached(auth, asked, waitUntil);
    await authenticateCached(auth, asked, waitUntil);
    expect(calls).toHaveLength(4);
  });

  it("keeps answers apart by credential, user agent and resource", async () => {
    const { auth, calls } = fakeAuth((asked) => ({ ...(fresh(5_000) as Extract<AuthResult, { ok: true }>), principal: { ...principal, credential_id: asked.credential! } }));
    const asked = input();
    const variants = [asked, { ...asked, credential: `${asked.credential}x` }, { ...asked, userAgent: "cursor/1.0" }, { ...asked, resource: "https://acme.airlock.localhost/mcp/other" }];
    for (const variant of variants) await authenticateCached(auth, variant, waitUntil);
    for (const variant of variants) await authenticateCached(auth, variant, waitUntil);
    expect(calls).toHaveLength(4);
    expect(((await authenticateCached(auth, variants[1]!, waitUntil)) as Extract<AuthResult, { ok: true }>).principal.credential_id).toBe(variants[1]!.credential);
  });

  it("renews an answer in its second half in the background, and drops it when the renewal refuses", async () => {
    let answer = (): AuthResult => fresh(200);
    const { auth, calls } = fakeAuth(() => answer());
    const asked = input();
    await authenticateCached(auth, asked, waitUntil);
    await sleep(120);
    answer = () => ({ ok: false, org: ORG, code: "credential_revoked", detail: "The credential has been revoked" });
    // Still within the first answer's lease: it is the answer, and a renewal starts behind it.
    expect(await authenticateCached(auth, asked, waitUntil)).toMatchObject({ ok: true });
    await Promise.all(background);
    expect(calls).toHaveLength(2);
    expect(await authenticateCached(auth, asked, waitUntil)).toMatchObject({ ok: false, code: "credential_revoked" });
  });

  it("does not cache the operator host or a request without a credential", async () => {
    const { auth, calls } = fakeAuth(() => fresh(5_000));
    await authenticateCached(auth, input({ credential: null }), waitUntil);
    await authenticateCached(auth, input({ credential: null }), waitUntil);
    const operator = input({ host: { kind: "operator" } });
    await authenticateCached(auth, operator, waitUntil);
    await authenticateCached(auth, operator, waitUntil);
    expect(calls).toHaveLength(4);
  });
});
