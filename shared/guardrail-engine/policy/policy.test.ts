import { describe, expect, it } from "vitest";
import { TEST_DETECTORS } from "../test-detectors.ts";
import { compilePolicy, strongest } from "./policy.ts";

const actionOf = (policy: ReturnType<typeof compilePolicy>, direction: "prompt" | "response" | "tool_result", id: string) =>
  policy.byDirection[direction].find((a) => a.detector.id === id)?.action;

describe("compilePolicy", () => {
  it("ships defaults: secrets redacted, PII logged, injection alerted in prompts and blocked elsewhere", () => {
    const policy = compilePolicy(TEST_DETECTORS, []);
    expect(actionOf(policy, "prompt", "test_key")).toBe("redact");
    expect(actionOf(policy, "prompt", "test_email")).toBe("log");
    expect(actionOf(policy, "prompt", "test_injection")).toBe("alert");
    expect(actionOf(policy, "tool_result", "test_injection")).toBe("block");
  });

  it("lets a more specific org rule win, and `allow` switch a detector off", () => {
    const policy = compilePolicy(TEST_DETECTORS, [
      { detector: "category:pii", directions: [], action: "redact", threshold: 0.5 },
      { detector: "test_email", directions: ["response"], action: "allow", threshold: 0.5 },
      { detector: "*", directions: ["tool_result"], action: "block", threshold: 0.95 },
    ]);
    expect(actionOf(policy, "prompt", "test_email")).toBe("redact");
    expect(actionOf(policy, "response", "test_email")).toBeUndefined();
    // A detector-specific default beats an org `*` rule; the org `*` rule beats nothing else here.
    expect(policy.byDirection.tool_result.find((a) => a.detector.id === "test_email")).toMatchObject({ action: "redact" });
  });

  it("orders actions block > redact > alert > log > allow", () => {
    expect(strongest("log", "block")).toBe("block");
    expect(strongest("redact", "alert")).toBe("redact");
    expect(strongest("allow", "log")).toBe("log");
  });
});
