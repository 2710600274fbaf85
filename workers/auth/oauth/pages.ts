import type { ConsentDescription } from "@cloudflare/workers-oauth-provider";
import { REASON_HEADER } from "../../../shared/rpc.ts";
import type { ProtectedResource } from "../../../shared/protected-resource.ts";

/** Every interpolated value passes through here: client names, URIs and scopes are chosen by whoever registered the client. */
export const escapeHtml = (value: string) =>
  value.replace(/[&<>"'`=]/g, (char) => `&#${char.charCodeAt(0)};`);

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}.box{border:1px solid #ccc;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
.warn{background:#fff4e5;border-color:#f0a020}code{font-size:.95em}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}`;

/** No script, no framing, nothing loaded from elsewhere; the form may only post back here. */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

export interface ConsentView {
  details: ConsentDescription;
  handle: string;
  action: string;
  org: { name: string };
  user: { email: string };
  resource: ProtectedResource;
  scopes: string[];
}

/** The consent page: who asks (name, and domain for a CIMD client), for what resource and scopes, and where access goes. */
export function consentPage(view: ConsentView): string {
  const { details, resource } = view;
  const name = escapeHtml(details.clientName);
  const origin = details.clientDomain
    ? `Published by <strong>${escapeHtml(details.clientDomain)}</strong> (client ID metadata document).`
    : "This app registered itself; its name is not verified.";
  const target = resource.kind === "mcp" ? `the MCP server <code>${escapeHtml(resource.name)}</code>` : `the model provider <code>${escapeHtml(resource.name)}</code>`;
  const scopes = view.scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join("");
  const loopback = details.redirectIsLoopback
    ? `<p class="box warn"><strong>Access goes to an app on this computer.</strong> Continue only if you just started signing in from it: any local program could be listening, whatever name it gives.</p>`
    : "";
  return page(
    `Allow ${details.clientName}?`,
    `<h1>Allow <strong>${name}</strong> to act as you in ${escapeHtml(view.org.name)}?</h1>
<p>Signed in as <strong>${escapeHtml(view.user.email)}</strong>.</p>
<div class="box"><p>${origin}</p>
<p>It asks for access to ${target} (<code>${escapeHtml(resource.id)}</code>) with the scopes:</p><ul>${scopes}</ul>
<p>Access will be sent to <strong>${escapeHtml(details.redirectHost)}</strong>.</p></div>
${loopback}
<form method="post" action="${escapeHtml(view.action)}">
<input type="hidden" name="handle" value="${escapeHtml(view.handle)}">
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

/**
 * A page for a failure that must not go back to the client (its redirect URI is not
 * trusted, or the page expired): the reason in words, and the stable code for the event.
 */
export function errorPage(status: number, reason: string, title: string, detail: string, headers?: Headers): Response {
  const out = new Headers(headers);
  out.set("content-type", "text/html; charset=utf-8");
  out.set("cache-control", "no-store");
  out.set("content-security-policy", PAGE_CSP);
  out.set("x-frame-options", "DENY");
  out.set(REASON_HEADER, reason);
  return new Response(page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p>`), { status, headers: out });
}

export function htmlResponse(html: string, headers: Headers): Response {
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("content-security-policy", PAGE_CSP);
  return new Response(html, { status: 200, headers });
}

/** A redirect (to the IdP, or back to the client); `reason` marks one that refuses. */
export function redirect(location: string, headers = new Headers(), reason?: string): Response {
  headers.set("location", location);
  headers.set("cache-control", "no-store");
  if (reason) headers.set(REASON_HEADER, reason);
  return new Response(null, { status: 302, headers });
}
