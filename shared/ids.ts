import { ulid as ulidWith } from "ulid";

/**
 * Random bytes from the platform's CSPRNG, drawn 256 at a time. Left to itself the ulid
 * package looks up its generator and calls `getRandomValues` for one byte per character
 * (sixteen calls per id); ids are made on every request, and that showed in the profiles.
 */
const pool = new Uint8Array(256);
let next = pool.length;

function random(): number {
  if (next === pool.length) {
    crypto.getRandomValues(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** A ULID (time-ordered, 80 random bits). */
export const ulid = (seedTime?: number): string => ulidWith(seedTime, random);
