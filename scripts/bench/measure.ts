// Latency measurement: every request timed on its own with process.hrtime.bigint (ns),
// from the call to the last byte of the body; reported in microseconds.

export type Send = () => Promise<Response>;

export class BadStatus extends Error {
  readonly variant: string;
  readonly status: number;
  constructor(variant: string, status: number, body: string) {
    super(`${variant} answered ${status}, not 200: ${body.slice(0, 300)}`);
    this.variant = variant;
    this.status = status;
  }
}

export interface Sample {
  /** Per-request latencies in nanoseconds. */
  latencies: bigint[];
  /** Wall time of the batches, in nanoseconds (for req/s). */
  wallNs: bigint;
}

/**
 * Sends `count` requests with `concurrency` in flight (1 = strictly sequential), consuming
 * every body; throws BadStatus on the first answer that is not 200.
 */
export async function run(variant: string, send: Send, count: number, concurrency: number, into?: Sample): Promise<Sample> {
  const sample = into ?? { latencies: [], wallNs: 0n };
  let next = 0;
  const loop = async () => {
    while (next < count) {
      next++;
      const started = process.hrtime.bigint();
      const response = await send();
      const body = await response.arrayBuffer();
      const elapsed = process.hrtime.bigint() - started;
      if (response.status !== 200) throw new BadStatus(variant, response.status, new TextDecoder().decode(body));
      sample.latencies.push(elapsed);
    }
  };
  // Collect the client's garbage between batches (with --expose-gc) so a pause in the load
  // generator does not land on whichever variant happens to run next.
  (globalThis as { gc?: () => void }).gc?.();
  const wallStarted = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, loop));
  sample.wallNs += process.hrtime.bigint() - wallStarted;
  return sample;
}

export interface Stats {
  requests: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  minUs: number;
  maxUs: number;
  reqPerSec: number;
}

const us = (ns: bigint | number) => Math.round(Number(ns) / 100) / 10; // 0.1 µs

export function stats(sample: Sample): Stats {
  const sorted = [...sample.latencies].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const n = sorted.length;
  // Nearest-rank percentile.
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
  const total = sorted.reduce((sum, v) => sum + v, 0n);
  return {
    requests: n,
    p50Us: us(at(50)),
    p90Us: us(at(90)),
    p99Us: us(at(99)),
    meanUs: us(Number(total) / n),
    minUs: us(sorted[0]!),
    maxUs: us(sorted[n - 1]!),
    reqPerSec: Math.round((n / Number(sample.wallNs)) * 1e9),
  };
}
