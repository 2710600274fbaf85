import type { HostTarget } from "../../shared/rpc.ts";

const ORG_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const OPERATOR_LABEL = "api";

/**
 * What a Host header addresses: an org (`acme.<base>`), the operator API (`api.<base>`),
 * or nothing Airlock serves. Only one label under the base domain names an org.
 */
export function hostTarget(host: string, baseDomain: string): HostTarget | null {
  const name = host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  const suffix = "." + baseDomain.toLowerCase();
  if (!name.endsWith(suffix)) return null;
  const label = name.slice(0, -suffix.length);
  if (label === OPERATOR_LABEL) return { kind: "operator" };
  return ORG_LABEL.test(label) ? { kind: "org", slug: label } : null;
}
