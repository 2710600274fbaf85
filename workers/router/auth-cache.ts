import { sha256Hex } from "../../shared/crypto.ts";
import type { AuthenticateInput, AuthResult, AuthRpc } from "../../shared/rpc.ts";

/**
 * `AUTH.authenticate()` answers reused while airlock-auth says they hold (`fresh_until`: the
 * end of its lease on the org's config version, or the credential's expiry). An MCP session
 * sends one request after another with the same credential; this spares each of them an RPC
 * without weakening revocation: an admin write is answered only once every lease on the
 * version before it has run out, and so has every answer reused here. Refusals are never
 * reused, so a bad credential always reaches airlock-auth.
 *
 * Entries are keyed by a digest of the credential, never the credential itself.
 */
interface Entry {
  result: Extract<AuthResult, { ok: true }>;
  obtainedAt: number;
  until: number;
}

const entries = new Map<string, Entry>();
const refreshing = new Set<string>();
const MAX_ENTRIES = 10_000;

export async function authenticateCached(auth: AuthRpc, input: AuthenticateInput, waitUntil: (promise: Promise<unknown>) => void): Promise<AuthResult> {
  if (!input.credential || input.host.kind !== "org") return auth.authenticate(input);
  const key = await sha256Hex(`${input.host.slug}\n${input.resource ?? ""}\n${input.userAgent ?? ""}\n${input.credential}`);
  const now = Date.now();
  // A caller that learned of a newer config version asks airlock-auth again, and keeps that answer.
  const hit = input.min_config_version === undefined ? entries.get(key) : undefined;
  if (hit && now < hit.until) {
    // In its second half, renew it off the critical path so a busy client never waits on airlock-auth.
    if (now - hit.obtainedAt > (hit.until - hit.obtainedAt) / 2 && !refreshing.has(key)) {
      refreshing.add(key);
      waitUntil(fetchAndKeep(auth, input, key).catch(() => undefined).finally(() => refreshing.delete(key)));
    }
    return hit.result;
  }
  return fetchAndKeep(auth, input, key);
}

async function fetchAndKeep(auth: AuthRpc, input: AuthenticateInput, key: string): Promise<AuthResult> {
  const obtainedAt = Date.now();
  const result = await auth.authenticate(input);
  if (!result.ok || result.fresh_until === undefined || result.fresh_until <= obtainedAt) {
    entries.delete(key);
    return result;
  }
  if (entries.size >= MAX_ENTRIES && !entries.has(key)) entries.clear();
  entries.set(key, { result, obtainedAt, until: result.fresh_until });
  return result;
}
