import { lookup as dnsLookup } from "node:dns";
import type { IncomingHttpHeaders } from "node:http";
import { request, type RequestOptions } from "node:https";
import type { LookupFunction } from "node:net";

export interface DevResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface DevRequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON with a matching content-type. */
  json?: unknown;
  timeoutMs?: number;
}

/**
 * Browsers and curl send every `*.localhost` name to loopback (RFC 6761), Node's resolver
 * does not: answer those names with 127.0.0.1 and leave the rest to DNS.
 */
const localhostLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname !== "localhost" && !hostname.endsWith(".localhost")) {
    dnsLookup(hostname, options, callback);
    return;
  }
  // Node asks for `all` addresses when it races IPv4 and IPv6 (autoSelectFamily).
  if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

/** An HTTPS request to the local Airlock, trusting only the dev CA (`ca`: its PEM). */
export function devRequest(url: string | URL, ca: string, init: DevRequestInit = {}): Promise<DevResponse> {
  const headers = { ...init.headers };
  const payload = init.json === undefined ? undefined : JSON.stringify(init.json);
  if (payload !== undefined) headers["content-type"] = "application/json";
  const options: RequestOptions = {
    method: init.method ?? (payload === undefined ? "GET" : "POST"),
    headers,
    ca,
    lookup: localhostLookup,
    timeout: init.timeoutMs ?? 10_000,
  };
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${options.method} ${url} timed out`)));
    req.on("error", reject);
    req.end(payload);
  });
}
