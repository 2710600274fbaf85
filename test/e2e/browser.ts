import type { Mesh } from "./mesh.ts";

/**
 * Requests to `*.airlock.localhost` go into the mesh (the harness routes by hostname);
 * anything else (the test IdP on 127.0.0.1, a client's metadata document) over the network.
 * This is the `fetch` the MCP SDK client is given.
 */
export function meshFetch(mesh: Mesh) {
  return (input: string | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    if (url.hostname.endsWith(".airlock.localhost")) return mesh.server.fetch(url.href, init as never) as unknown as Promise<Response>;
    return fetch(url, init);
  };
}

/**
 * The user's browser, headless: a cookie jar per host (enough for `__Host-` and the IdP's
 * session cookies), redirects followed by hand so a test can stop at any hop.
 */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();
  private readonly send: ReturnType<typeof meshFetch>;

  constructor(mesh: Mesh) {
    this.send = meshFetch(mesh);
  }

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = this.jar.get(target.host);
    if (cookies?.size) headers.set("cookie", [...cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    headers.set("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36");
    const response = await this.send(target.href, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) this.store(target.host, line);
    return response;
  }

  private store(host: string, line: string) {
    const [pair, ...attributes] = line.split(";");
    const eq = pair!.indexOf("=");
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    this.jar.set(host, cookies);
    const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a) || (/^\s*expires\s*=/i.test(a) && Date.parse(a.split("=")[1]!) < Date.now()));
    if (expired || value === "") cookies.delete(name);
    else cookies.set(name, value);
  }

  /** Follows redirects from `url` until `stop(location)` or a page that is not a redirect; returns the last response and its URL. */
  async follow(url: string | URL, stop: (location: URL) => boolean = () => false): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    for (let hop = 0; hop < 20; hop++) {
      const response = await this.fetch(current);
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      await response.body?.cancel();
      current = new URL(location, current);
      if (stop(current)) return { response, url: current };
    }
    throw new Error(`too many redirects from ${String(url)}`);
  }

  /** Submits a page's form: its action (relative to the page) with the given fields, as a browser would. */
  async submit(pageUrl: URL, html: string, fields: Record<string, string>): Promise<Response> {
    const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
    if (!action) throw new Error("no form on the page");
    const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
    return this.fetch(new URL(decodeEntities(action), pageUrl), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...hidden, ...fields }).toString(),
    });
  }
}

const decodeEntities = (value: string) => value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, "&");
