import { createMiddleware } from "hono/factory";
import { problem } from "../../../shared/problem.ts";
import type { RouterEnv } from "../context.ts";

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);

/**
 * Bodies are read here, bounded by the configured limit whether or not a Content-Length
 * announces them, and handed on as a buffer (`c.get("body")`; with `passOn`, also as the
 * body of `c.req.raw`, for handlers that pass the request on as it is). With `json`, only JSON
 * media types are accepted (the admin, operator and SCIM APIs); OAuth endpoints take forms.
 */
const limitedBody = (options: { json: boolean; passOn: boolean }) => createMiddleware<RouterEnv>(async (c, next) => {
  if (!METHODS_WITH_BODY.has(c.req.method)) return next();
  const requestId = c.get("requestId");
  const limit = Number(c.env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES;
  const tooLarge = () => problem("payload_too_large", { detail: `The body is larger than ${limit} bytes`, requestId });

  const length = c.req.header("content-length");
  const declared = Number(length ?? "0");
  if (declared > limit) return tooLarge();

  // HTTP framing holds a body to its Content-Length: then one read is enough. Without one
  // (chunked), count as it streams.
  const buffer = length !== undefined ? new Uint8Array(await c.req.raw.arrayBuffer()) : await readCounted(c.req.raw.body, limit);
  if (buffer === null || buffer.byteLength > limit) return tooLarge();
  const mediaType = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (options.json && buffer.byteLength > 0 && mediaType !== "application/json" && !mediaType?.endsWith("+json")) {
    return problem("unsupported_media_type", { detail: "Send the body as application/json", requestId });
  }
  c.set("body", buffer);
  if (options.passOn) c.req.raw = new Request(c.req.raw, { body: buffer.byteLength > 0 ? buffer : null });
  return next();
});

/** The whole body, or null as soon as it grows past `limit`. */
async function readCounted(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body) {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > limit) return null;
      chunks.push(chunk);
    }
  }
  const buffer = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    buffer.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return buffer;
}

export const jsonBody = limitedBody({ json: true, passOn: true });
export const anyBody = limitedBody({ json: false, passOn: true });
/** For the gateways, which read the buffer and build the request they send on themselves: no second copy of the request per call. */
export const bodyBuffer = limitedBody({ json: false, passOn: false });
