import { expect, it } from "vitest";
import { detectClient } from "./clients.ts";

it.each([
  ["claude-cli/2.0.14 (external, cli)", { name: "claude-code", version: "2.0.14" }],
  ["codex_cli_rs/0.46.0 (Mac OS 15.0.1; arm64)", { name: "codex", version: "0.46.0" }],
  ["Cursor/1.7.38 (darwin arm64)", { name: "cursor", version: "1.7.38" }],
  ["OpenAI/JS 6.2.0", { name: "openai-sdk", version: "6.2.0" }],
  ["Anthropic/JS 0.65.0", { name: "anthropic-sdk", version: "0.65.0" }],
  ["curl/8.5.0", { name: "curl", version: "8.5.0" }],
  ["SomethingElse/1.0", { name: "other" }],
  [null, { name: "unknown" }],
])("detects %j", (userAgent, expected) => {
  expect(detectClient(userAgent)).toEqual(expected);
});
