import { assertPublicUrl, UnsafeUrlError } from "../../../shared/ssrf.ts";
import { OAuthSetupError } from "./client.ts";

const TIMEOUT_MS = 5_000;
const MAX_BYTES = 64 * 1024;

/**
 * One request to an upstream authorization endpoint (metadata or token), with the same SSRF
 * rule as server URLs, no redirects followed, a timeout and a size cap. Returns status and
 * parsed JSON (null when the body is not JSON).
 */
export async function fetchJson(url: string, init: RequestInit, allowPrivate: boolean): Promise<{ status: number; body: unknown }> {
  try {
    assertPublicUrl(url, { allowPrivate });
  } catch (error) {
    if (error instanceof UnsafeUrlError) throw new OAuthSetupError(`The upstream's authorization endpoint is not allowed: it ${error.message}`);
    throw error;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(url, { ...init, redirect: "manual", signal: controller.signal });
    const text = await response.text();
    if (text.length > MAX_BYTES) return { status: response.status, body: null };
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the caller treats the answer as unusable.
    }
    return { status: response.status, body };
  } catch {
    throw new OAuthSetupError(`The upstream's authorization server at ${new URL(url).origin} could not be reached`);
  } finally {
    clearTimeout(timer);
  }
}
