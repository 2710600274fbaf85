import { expect, it } from "vitest";
import { clientCredential, forwardedHeaders } from "./client.ts";

const url = (query = "") => new URL(`https://acme.airlock.localhost/llm/gemini/v1beta/models/m:generateContent${query}`);
const request = (headers: Record<string, string>) => new Request(url(), { headers });

it.each([
  [{ authorization: "Bearer alk_key_a" }, "", "alk_key_a"],
  [{ authorization: "Basic abc" }, "", ""],
  [{ "x-api-key": "alk_key_b" }, "", "alk_key_b"],
  [{ "api-key": "alk_key_c" }, "", "alk_key_c"],
  [{ "x-goog-api-key": "alk_key_d" }, "", "alk_key_d"],
  [{}, "?key=alk_key_e&alt=sse", "alk_key_e"],
  [{}, "", null],
])("the agent's key from %j %s", (headers, query, expected) => {
  expect(clientCredential(new Request(url(query), { headers }), url(query))).toBe(expected);
});

it("forwards what describes the call, never a credential, cookie or connection header", () => {
  const forwarded = forwardedHeaders(request({
    authorization: "Bearer alk_key_a", "x-api-key": "k", "x-goog-api-key": "k", "api-key": "k", cookie: "c=1", "cf-connecting-ip": "1.2.3.4",
    "content-type": "application/json", "anthropic-version": "2023-06-01", "anthropic-beta": "tools", "user-agent": "claude-cli/2.0", "x-stainless-lang": "js",
  }));
  expect(Object.keys(forwarded).sort()).toEqual(["anthropic-beta", "anthropic-version", "content-type", "user-agent", "x-stainless-lang"]);
});
