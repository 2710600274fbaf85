import { expect, it } from "vitest";
import { PROVIDERS } from "../providers/index.ts";
import type { ProviderEntry, Registry } from "./registry.ts";
import { targetsOf } from "./upstream.ts";

const provider = (id: string, kind: keyof typeof PROVIDERS): ProviderEntry => ({
  id, name: id, kind, config: PROVIDERS[kind], baseUrl: "https://example.com", consumer: false, timeoutMs: 1000, credential: async () => "k",
});
const providers = [provider("a", "openai"), provider("b", "azure_openai"), provider("c", "anthropic")];
const registry = { providersById: new Map(providers.map((p) => [p.id, p])) } as Registry;
const entry = {
  name: "m",
  deployments: [{ provider_id: "a", model: "m-a", weight: 3 }, { provider_id: "b", model: "m-b", weight: 1 }],
  fallbacks: [{ provider_id: "c", model: "claude" }, { provider_id: "a", model: "m-small" }],
  price: null,
};
const order = (random: number) => targetsOf(entry, registry, "openai", () => random).map((t) => `${t.provider.id}/${t.model}`);

it("draws a deployment by weight, then the others, then the fallbacks of the caller's dialect in order", () => {
  // Weights 3:1 → a random draw below 0.75 picks a first.
  expect(order(0.1)).toEqual(["a/m-a", "b/m-b", "a/m-small"]);
  expect(order(0.8)).toEqual(["b/m-b", "a/m-a", "a/m-small"]);
  expect(targetsOf(entry, registry, "anthropic").map((t) => t.model)).toEqual(["claude"]);
});
