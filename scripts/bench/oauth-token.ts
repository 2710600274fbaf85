// One real OAuth access token for the benchmark, minted the way an MCP client gets one, with
// no browser: the test OpenID Provider (test/fixtures/oidc-idp.ts, oidc-provider on 127.0.0.1)
// as the org's IdP, dynamic client registration, the authorization request with PKCE S256 and
// an RFC 8707 resource, the IdP's login form and Airlock's consent form submitted headlessly
// (a cookie jar per host, redirects followed by hand), and the code exchanged at /oauth/token.
// Mirrors test/e2e/oauth.test.ts, over Miniflare#dispatchFetch instead of the test harness.
import { createHash, randomBytes } from "node:crypto";
import { startIdp } from "../../test/fixtures/oidc-idp.ts";

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

const REDIRECT_URL = "http://127.0.0.1:33418/oauth/callback";
const USER = { sub: "00u-bench", email: "bench@acme.test", name: "Bench User", groups: ["eng-staff"] };

const decodeEntities = (value: string) => value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, "&");

/** Cookies per host and manual redirects: enough of a browser for the IdP's session and Airlock's `__Host-` cookies. */
class Browser {
  private readonly jar = new Map<string, Map<string, string>>();
  private readonly send: Fetch;
  constructor(send: Fetch) {
    this.send = send;
  }

  async fetch(url: URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookies = this.jar.get(url.host);
    if (cookies?.size) headers.set("cookie", [...cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    headers.set("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36");
    const response = await this.send(url.href, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const jar = this.jar.get(url.host) ?? new Map<string, string>();
      this.jar.set(url.host, jar);
      if (value === "" || attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /** Follows redirects until `stop(location)` or a page that is not a redirect. */
  async follow(start: URL, stop: (location: URL) => boolean = () => false): Promise<{ response: Response; url: URL }> {
    let current = start;
    for (let hop = 0; hop < 20; hop++) {
      const response = await this.fetch(current);
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      await response.body?.cancel();
      current = new URL(location, current);
      if (stop(current)) return { response, url: current };
    }
    throw new Error(`oauth: too many redirects from ${start.href}`);
  }

  async submit(pageUrl: URL, html: string, fields: Record<string, string>): Promise<Response> {
    const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
    if (!action) throw new Error(`oauth: no form on ${pageUrl.href}: ${html.slice(0, 300)}`);
    const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
    return this.fetch(new URL(decodeEntities(action), pageUrl), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...hidden, ...fields }).toString(),
    });
  }
}

export interface MintedAccessToken {
  accessToken: string;
  resource: string;
  clientId: string;
  scope: string;
  expiresIn: number;
  idpIssuer: string;
  close: () => Promise<void>;
}

/**
 * `dispatch` reaches the org's host in the mesh; `adminToken` sets the org's IdP up. Returns
 * the access token for `resource` and a close() for the IdP (call it when the bench ends).
 */
export async function mintAccessToken(options: { origin: string; resource: string; adminToken: string; dispatch: Fetch }): Promise<MintedAccessToken> {
  const { origin, resource, adminToken } = options;
  const originHost = new URL(origin).host;
  const send: Fetch = (url, init) => (new URL(url).host === originHost ? options.dispatch(url, init) : fetch(url, init));
  const idp = await startIdp({ clientId: "airlock-bench", clientSecret: "idp-client-secret-for-the-bench", redirectUris: [`${origin}/sso/callback`], users: [USER] });
  try {
    const check = async (response: Response, status: number, what: string) => {
      if (response.status !== status) throw new Error(`oauth: ${what} answered ${response.status}, not ${status}: ${(await response.text()).slice(0, 400)}`);
      return response;
    };
    await check(
      await send(`${origin}/api/v1/identity-provider`, {
        method: "PUT",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ["openid", "email", "profile", "groups"], group_teams: {}, auto_create_teams: false }),
      }),
      200, "PUT /api/v1/identity-provider",
    );
    const registered = (await (
      await check(
        await send(`${origin}/oauth/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ client_name: "Airlock bench agent", redirect_uris: [REDIRECT_URL], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" }),
        }),
        201, "POST /oauth/register",
      )
    ).json()) as { client_id: string };

    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const authorizeUrl = new URL(`${origin}/oauth/authorize`);
    for (const [k, v] of Object.entries({ response_type: "code", client_id: registered.client_id, redirect_uri: REDIRECT_URL, code_challenge: challenge, code_challenge_method: "S256", state: "bench", scope: "mcp", resource })) {
      authorizeUrl.searchParams.set(k, v);
    }
    const browser = new Browser(send);
    const toIdp = await browser.follow(authorizeUrl, (location) => location.origin === idp.issuer);
    if (toIdp.url.origin !== idp.issuer) throw new Error(`oauth: /oauth/authorize did not send the browser to the IdP (${toIdp.response.status} at ${toIdp.url.href})`);
    const loginPage = await browser.follow(toIdp.url);
    const loggedIn = await browser.submit(loginPage.url, await loginPage.response.text(), { login: USER.sub });
    const back = await browser.follow(new URL(loggedIn.headers.get("location") ?? "/", loginPage.url), (location) => location.origin === origin);
    const consent = await check(await browser.fetch(back.url), 200, "the consent page");
    const approved = await check(await browser.submit(back.url, await consent.text(), { decision: "approve" }), 302, "consent approve");
    const callback = new URL(approved.headers.get("location")!);
    const code = callback.searchParams.get("code");
    if (!code || !callback.href.startsWith(REDIRECT_URL)) throw new Error(`oauth: consent did not redirect to the client with a code: ${callback.href}`);

    const tokens = (await (
      await check(
        await send(`${origin}/oauth/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URL, client_id: registered.client_id, code_verifier: verifier, resource }).toString(),
        }),
        200, "POST /oauth/token",
      )
    ).json()) as { access_token: string; scope: string; expires_in: number };
    return { accessToken: tokens.access_token, resource, clientId: registered.client_id, scope: tokens.scope, expiresIn: tokens.expires_in, idpIssuer: idp.issuer, close: () => idp.close() };
  } catch (error) {
    await idp.close();
    throw error;
  }
}
