import { describe, expect, it } from "vitest";
import { idleReader } from "./idle-reader.ts";

/** A source that hands out `chunks` with `gapMs` before each, then stays silent (never closes). */
function trickle(chunks: string[], gapMs: number) {
  let cancelled: unknown = null;
  const queue = [...chunks];
  const stream = new ReadableStream<string>({
    async pull(controller) {
      if (!queue.length) return new Promise<void>(() => undefined);
      await scheduler.wait(gapMs);
      controller.enqueue(queue.shift()!);
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  return { reader: stream.getReader(), cancelled: () => cancelled };
}

describe("idleReader", () => {
  it("reads a source that keeps talking, however long it runs in all", async () => {
    const source = trickle(["a", "b", "c", "d", "e", "f"], 20);
    const reader = idleReader(source.reader, 50);
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push((await reader.read())!.value!);
    reader.stop();
    expect(got.join("")).toBe("abcdef");
    expect(source.cancelled()).toBeNull();
  });

  it("cancels a source that falls silent while a read waits, and answers null from then on", async () => {
    const source = trickle(["a"], 1);
    const reader = idleReader(source.reader, 40);
    expect((await reader.read())?.value).toBe("a");
    const started = Date.now();
    expect(await reader.read()).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(String(source.cancelled())).toMatch(/nothing arrived for 40 ms/);
    expect(await reader.read()).toBeNull();
  });

  it("does not count time nobody was reading against the source", async () => {
    const source = trickle(["a", "b"], 1);
    const reader = idleReader(source.reader, 30);
    expect((await reader.read())?.value).toBe("a");
    // A slow consumer: longer than the bound between two reads.
    await scheduler.wait(80);
    expect((await reader.read())?.value).toBe("b");
    reader.stop();
    expect(source.cancelled()).toBeNull();
  });
});
