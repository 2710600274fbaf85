import { WorkerEntrypoint } from "cloudflare:workers";
import type { Health, GuardrailRpc } from "../../shared/rpc.ts";

/** Wired into the mesh now; its capabilities arrive with their own issues. */
export class GuardrailService extends WorkerEntrypoint implements GuardrailRpc {
  async health(): Promise<Health> {
    return { worker: "guardrail", ok: true };
  }
}

export default {
  fetch: () => new Response("airlock-guardrail is reached through airlock-router", { status: 404 }),
} satisfies ExportedHandler;
