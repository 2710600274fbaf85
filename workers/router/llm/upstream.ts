import type { ModelEntry, ProviderEntry, Registry } from "./registry.ts";

export interface Target {
  provider: ProviderEntry;
  model: string;
}

/** One try at one target, for the event's fallback path. */
export interface Attempt {
  provider: string;
  model: string;
  outcome: number | "timeout" | "network_error" | "no_credential";
}

/**
 * The order to try: one deployment drawn by weight, the other deployments (also by weight),
 * then the fallbacks in their order. Only providers speaking the caller's dialect qualify.
 */
export function targetsOf(entry: ModelEntry, registry: Registry, dialect: string, random = Math.random): Target[] {
  const pool = entry.deployments.map((d) => ({ ...d, provider: registry.providersById.get(d.provider_id) }));
  const ordered: Target[] = [];
  while (pool.length) {
    const total = pool.reduce((sum, d) => sum + d.weight, 0);
    let pick = random() * total;
    const index = Math.max(0, pool.findIndex((d) => (pick -= d.weight) < 0));
    const [d] = pool.splice(index, 1);
    if (d!.provider) ordered.push({ provider: d!.provider, model: d!.model });
  }
  for (const f of entry.fallbacks) {
    const provider = registry.providersById.get(f.provider_id);
    if (provider) ordered.push({ provider, model: f.model });
  }
  return ordered.filter((t) => t.provider.config.dialect === dialect);
}

/** Worth another try (this target again, then the next): rate limited, overloaded, failing, timed out, unreachable. */
const retryable = (outcome: Attempt["outcome"]) => typeof outcome !== "number" || outcome === 429 || outcome === 408 || outcome >= 500;

export interface CallResult {
  response?: Response;
  target?: Target;
  attempts: Attempt[];
  /** Set when no target answered at all. */
  failure?: { status: number; code: string; message: string };
}

export interface CallOptions {
  /** Tries per target (the first included). */
  triesPerTarget: number;
  backoffMs: number;
  /** The provider request's URL and init; the fetch adds the timeout signal and `redirect: "manual"`. */
  build(target: Target, credential: string): { url: string; init: RequestInit };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls the targets in order, retrying with exponential backoff on retryable outcomes. All of
 * it happens before a byte reaches the client: the response is returned once its headers
 * arrive, so a stream that fails later is never retried (its body is already the client's).
 */
export async function callTargets(targets: Target[], options: CallOptions): Promise<CallResult> {
  const attempts: Attempt[] = [];
  let last: { response: Response; target: Target } | undefined;
  for (const target of targets) {
    const credential = await target.provider.credential();
    if (credential === null) {
      attempts.push({ provider: target.provider.name, model: target.model, outcome: "no_credential" });
      continue;
    }
    for (let attempt = 0; attempt < options.triesPerTarget; attempt++) {
      if (attempts.length > 0 && attempts.at(-1)!.outcome !== "no_credential") await sleep(options.backoffMs * 2 ** attempt * (0.5 + Math.random() / 2));
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), target.provider.timeoutMs);
      let outcome: Attempt["outcome"];
      try {
        // Fetched from URL and init, not a Request: fetch(request, init) would copy the Request (headers and all) once more.
        const { url, init } = options.build(target, credential);
        const response = await fetch(url, { ...init, signal: controller.signal, redirect: "manual" });
        clearTimeout(timer);
        outcome = response.status;
        attempts.push({ provider: target.provider.name, model: target.model, outcome });
        if (!retryable(outcome)) return { response, target, attempts };
        // Kept to hand back if nothing better comes: the provider's own error body.
        await last?.response.body?.cancel();
        last = { response, target };
      } catch {
        clearTimeout(timer);
        outcome = controller.signal.aborted ? "timeout" : "network_error";
        attempts.push({ provider: target.provider.name, model: target.model, outcome });
      }
    }
  }
  if (last) return { ...last, attempts };
  if (attempts.length > 0 && attempts.every((a) => a.outcome === "no_credential")) {
    return { attempts, failure: { status: 502, code: "provider_credential_missing", message: `No credential is set for provider ${attempts.map((a) => a.provider).join(", ")}; an admin must PUT /api/v1/providers/<id>/credential` } };
  }
  const timedOut = attempts.some((a) => a.outcome === "timeout");
  return {
    attempts,
    failure: timedOut
      ? { status: 504, code: "provider_timeout", message: "The model provider did not answer in time" }
      : { status: 502, code: "provider_unreachable", message: "The model provider could not be reached" },
  };
}
