/**
 * The org's slice of `OAUTH_KV`. The OAuth library keys everything by client, user and
 * grant (`client:<id>`, `grant:<user>:<grant>`, `token:…`); putting every key of an org
 * under `org:<id>:` means one org's authorization server cannot see, list, validate or
 * revoke another org's clients, grants or tokens, and the admin API's listings are per org.
 */
export interface OrgOAuthEnv {
  OAUTH_KV: KVNamespace;
}

type ListOptions = KVNamespaceListOptions | undefined;

export function orgKv(kv: KVNamespace, orgId: string): KVNamespace {
  if (!orgId) throw new Error("orgKv needs an org id");
  const prefix = `org:${orgId}:`;
  const scoped = {
    get: (key: string, options?: unknown) => kv.get(prefix + key, options as KVNamespaceGetOptions<"text">),
    getWithMetadata: (key: string, options?: unknown) => kv.getWithMetadata(prefix + key, options as KVNamespaceGetOptions<"text">),
    put: (key: string, value: string | ArrayBuffer | ArrayBufferView | ReadableStream, options?: KVNamespacePutOptions) =>
      kv.put(prefix + key, value, options),
    delete: (key: string) => kv.delete(prefix + key),
    list: async (options?: ListOptions) => {
      const page = await kv.list({ ...options, prefix: prefix + (options?.prefix ?? "") });
      return { ...page, keys: page.keys.map((key) => ({ ...key, name: key.name.slice(prefix.length) })) };
    },
  };
  return scoped as unknown as KVNamespace;
}

export const orgOAuthEnv = (env: OrgOAuthEnv, orgId: string): OrgOAuthEnv => ({ OAUTH_KV: orgKv(env.OAUTH_KV, orgId) });
