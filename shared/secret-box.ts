import { desc, eq } from "drizzle-orm";
import { schema, type Db } from "./db/index.ts";

/**
 * Secrets at rest (alert webhooks, provider keys, upstream tokens): AES-256-GCM under a
 * per-org data key; the data key is stored wrapped (AES-GCM, org id as associated data)
 * by the MASTER_KEY secret. Sealed values are `v1.<iv>.<ciphertext>` in base64url, bound
 * to their purpose by associated data, so a sealed value cannot be replayed elsewhere.
 */
const VERSION = "v1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const fromB64url = (text: string) => Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));

async function gcmKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

async function encrypt(key: CryptoKey, plaintext: Uint8Array, aad: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(aad) }, key, plaintext);
  return `${VERSION}.${b64url(iv)}.${b64url(new Uint8Array(ciphertext))}`;
}

async function decrypt(key: CryptoKey, sealed: string, aad: string): Promise<Uint8Array> {
  const [version, iv, ciphertext] = sealed.split(".");
  if (version !== VERSION || !iv || !ciphertext) throw new Error("not a sealed value");
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromB64url(iv), additionalData: encoder.encode(aad) },
    key,
    fromB64url(ciphertext),
  );
  return new Uint8Array(plaintext);
}

export async function masterKey(secret: string | undefined): Promise<CryptoKey> {
  if (!secret) throw new Error("MASTER_KEY secret is not set");
  const raw = Uint8Array.from(atob(secret), (c) => c.charCodeAt(0));
  if (raw.byteLength !== 32) throw new Error("MASTER_KEY must be 32 bytes, base64");
  return gcmKey(raw);
}

/** Per isolate: org id → unwrapped data key. Keys never change once created. */
const dataKeys = new Map<string, Promise<CryptoKey>>();

async function loadDataKey(db: Db, master: CryptoKey, orgId: string): Promise<CryptoKey> {
  const { orgKeys } = schema;
  const current = () =>
    db.select().from(orgKeys).where(eq(orgKeys.orgId, orgId)).orderBy(desc(orgKeys.version)).limit(1);
  let [row] = await current();
  if (!row) {
    const wrapped = await encrypt(master, crypto.getRandomValues(new Uint8Array(32)), `org-key:${orgId}`);
    // Two isolates may race to create the first key: one insert wins, both read it back.
    await db.insert(orgKeys).values({ orgId, version: 1, wrappedKey: wrapped, createdAt: Date.now() }).onConflictDoNothing();
    [row] = await current();
  }
  return gcmKey(await decrypt(master, row!.wrappedKey, `org-key:${orgId}`));
}

export interface SecretBox {
  seal(plaintext: string, purpose: string): Promise<string>;
  open(sealed: string, purpose: string): Promise<string>;
}

/** Seal and open an org's secrets; `purpose` (e.g. `alert-destination:<id>`) is bound in. */
export function secretBox(db: Db, master: CryptoKey, orgId: string): SecretBox {
  const key = () => {
    let pending = dataKeys.get(orgId);
    if (!pending) {
      pending = loadDataKey(db, master, orgId);
      pending.catch(() => dataKeys.delete(orgId));
      dataKeys.set(orgId, pending);
    }
    return pending;
  };
  return {
    seal: async (plaintext, purpose) => encrypt(await key(), encoder.encode(plaintext), `${orgId}:${purpose}`),
    open: async (sealed, purpose) => decoder.decode(await decrypt(await key(), sealed, `${orgId}:${purpose}`)),
  };
}
