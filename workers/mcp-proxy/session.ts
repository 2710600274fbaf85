/**
 * Client-facing `Mcp-Session-Id`: the upstream session id(s) and who they belong to,
 * sealed with AES-GCM under a key derived once per isolate from MASTER_KEY (HKDF), so
 * any replica can serve any session and no sticky state is kept. The org id is bound in
 * as associated data; the principal and server are checked on every use.
 */
export interface SessionState {
  /** Principal: user id, else credential id. */
  p: string;
  /** The server or virtual server name the session was opened on. */
  n: string;
  /** Upstream server name → its session id (null when the upstream is stateless). */
  u: Record<string, string | null>;
  /** The client's initialize params, for legacy HTTP+SSE upstreams (each request re-initialises them). */
  i?: Record<string, unknown>;
}

const PREFIX = "s1.";
/** The longest session id a client may present; `sealSession` never issues a longer one. */
const MAX_SESSION_ID_CHARS = 8192;
/**
 * The most of a client's initialize params (protocol version, capabilities, client info) a
 * session carries: sealed and base64-encoded beside the upstream ids it stays under the id limit.
 */
export const MAX_CARRIED_INIT_CHARS = 4096;

/** What a legacy upstream's re-initialise needs of the client's initialize params, and nothing else. */
export function carriedInit(params: Record<string, unknown>): Record<string, unknown> {
  const { protocolVersion, capabilities, clientInfo } = params;
  return { protocolVersion, capabilities, clientInfo };
}
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let sessionKey: Promise<CryptoKey> | undefined;

function keyOf(masterKey: string): Promise<CryptoKey> {
  sessionKey ??= (async () => {
    const raw = Uint8Array.from(atob(masterKey), (c) => c.charCodeAt(0));
    const base = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
    return crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("airlock mcp session v1") },
      base,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
  })();
  sessionKey.catch(() => (sessionKey = undefined));
  return sessionKey;
}

// A byte at a time: spreading a large array into fromCharCode overflows the stack.
const b64url = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join("")).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const fromB64url = (text: string) => Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));

export async function sealSession(masterKey: string, orgId: string, state: SessionState): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(orgId) }, await keyOf(masterKey), encoder.encode(JSON.stringify(state)));
  const out = new Uint8Array(12 + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), 12);
  const id = PREFIX + b64url(out);
  if (id.length > MAX_SESSION_ID_CHARS) throw new Error(`session state too large for a session id (${id.length} > ${MAX_SESSION_ID_CHARS} chars)`);
  return id;
}

/** An opened session, and its tag for events (`mcp.session.id`): never the id itself, which the client holds. */
export interface OpenedSession {
  state: SessionState;
  tag: string;
}

/**
 * Sessions opened in this isolate, by org and id: a busy session's every request would
 * otherwise decrypt and hash its id again. A sealed id never changes what it holds; only ids
 * that open are kept. Ids run to a few hundred characters, so the bound keeps this small.
 */
const openedById = new Map<string, OpenedSession>();
const MAX_OPENED = 2_000;

/** The session, or null when the id is not one this org's gateway issued. */
export async function openSession(masterKey: string, orgId: string, id: string): Promise<OpenedSession | null> {
  if (!id.startsWith(PREFIX) || id.length > MAX_SESSION_ID_CHARS) return null;
  const key = `${orgId}\n${id}`;
  const hit = openedById.get(key);
  if (hit) return hit;
  let state: SessionState;
  try {
    const bytes = fromB64url(id.slice(PREFIX.length));
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: encoder.encode(orgId) }, await keyOf(masterKey), bytes.slice(12));
    state = JSON.parse(decoder.decode(plain)) as SessionState;
  } catch {
    return null;
  }
  const opened = { state, tag: await sessionTag(id) };
  if (openedById.size >= MAX_OPENED) openedById.clear();
  openedById.set(key, opened);
  return opened;
}

/** 16 hex characters of the id's SHA-256: the same session has the same tag in every event. */
export async function sessionTag(id: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(id));
  return [...new Uint8Array(digest).slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
