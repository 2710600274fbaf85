// The two reference Workers that run in the same Miniflare as Airlock and are dispatched
// exactly like it: whatever they cost is the platform (dispatch, routing, workerd), so
// "Airlock minus bare Worker" is what Airlock's own code costs.
import type { V4WorkerOptions } from "./mesh.ts";

/** Same answer shape as the fixture: small static JSON. */
const HELLO = `
const body = { ok: true, from: "bare-hello" };
export default {
  fetch() {
    return Response.json(body);
  },
};
`;

/** Forwards method, path, query, headers and body to the fixture and returns its response. */
const PASS_THROUGH = `
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(new Request(env.UPSTREAM + url.pathname + url.search, request));
  },
};
`;

export function bareWorkers(options: { compatibilityDate: string; upstream: string; helloRoute: string; passThroughRoute: string }): V4WorkerOptions[] {
  const common = { compatibilityDate: options.compatibilityDate, modules: true } as const;
  return [
    { ...common, name: "bench-bare-hello", script: HELLO, routes: [options.helloRoute] },
    { ...common, name: "bench-bare-pass-through", script: PASS_THROUGH, routes: [options.passThroughRoute], bindings: { UPSTREAM: options.upstream } },
  ] as V4WorkerOptions[];
}
