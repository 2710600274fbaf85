// The upstream stand-in: a Node HTTP server on 127.0.0.1 answering every request with the
// same small JSON. Called directly it is the floor of the benchmark (loopback + HTTP in
// Node); behind the pass-through Worker it is what a proxied request reaches.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const FIXTURE_BODY = JSON.stringify({ ok: true, from: "fixture" });

export interface Fixture {
  origin: string;
  close(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const server: Server = createServer((request, response) => {
    // Drain any body so keep-alive connections stay reusable, then answer.
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(FIXTURE_BODY) });
      response.end(FIXTURE_BODY);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
