import { createMiddleware } from "hono/factory";
import { problem } from "../../../shared/problem.ts";
import type { RouterEnv } from "../context.ts";

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);

/**
 * Bodies are read here, counted as they stream (a missing or lying Content-Length cannot
 * get past the configured limit), and handed on as a buffer. With `json`, only JSON
 * media types are accepted (the admin, operator and SCIM APIs); OAuth endpoints take forms.
 */
const limitedBody = (options: { json: boolean }) => createMiddleware<RouterEnv>(async (c, next) => {
  if (!METHODS_WITH_BODY.has(c.req.method)) return next();
  const requestId = c.get("requestId");
  const limit = Number(c.env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES;
  const tooLarge = () => problem("payload_too_large", { detail: `The body is larger than ${limit} bytes`, requestId });

  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limit) return tooLarge();

  const body = c.req.raw.body;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body) {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > limit) return tooLarge();
      chunks.push(chunk);
    }
  }
  const mediaType = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (options.json && size > 0 && mediaType !== "application/json" && !mediaType?.endsWith("+json")) {
    return problem("unsupported_media_type", { detail: "Send the body as application/json", requestId });
  }
  const buffer = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    buffer.set(chunk, offset);
    offset += chunk.byteLength;
  }
  c.req.raw = new Request(c.req.raw, { body: size > 0 ? buffer : null });
  return next();
});

export const jsonBody = limitedBody({ json: true });
export const anyBody = limitedBody({ json: false });
