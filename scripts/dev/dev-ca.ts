import "reflect-metadata"; // @peculiar/x509 resolves its parts through tsyringe, which needs this polyfill
import { AsnConvert } from "@peculiar/asn1-schema";
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { replaceFile } from "./atomic-file.ts";

/** Every org answers at `<org>.airlock.localhost`, the operator API at `api.airlock.localhost`. */
export const DEV_DOMAIN = "airlock.localhost";

export interface DevCa {
  caCertPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  /** True when this run made the CA, so the developer has yet to trust it. */
  created: boolean;
}

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" };
const DAY_MS = 86_400_000;
const CA_VALIDITY_DAYS = 3650;
const SERVER_VALIDITY_DAYS = 820; // macOS and iOS reject TLS server certificates valid > 825 days
const RENEW_BEFORE_DAYS = 30; // renewing the server certificate keeps the trusted CA

const files = (dir: string) => ({
  caCert: join(dir, "ca.pem"),
  caKey: join(dir, "ca-key.pem"),
  serverCert: join(dir, "server.pem"),
  serverKey: join(dir, "server-key.pem"),
});

/** Creates the dev CA and server certificate once; later runs reuse them. */
export async function ensureDevCa(dir: string): Promise<DevCa> {
  const paths = files(dir);
  let created = false;
  if (!existsSync(paths.caCert)) created = await createCaDir(dir);
  else if (serverNeedsIssuing(dir)) await issueServerCert(dir);
  return { caCertPath: paths.caCert, serverCertPath: paths.serverCert, serverKeyPath: paths.serverKey, created };
}

/**
 * Builds the whole directory under a temporary name and renames it into place, so the
 * CA and server files always match even when two runs start at once. Returns false when
 * another run's directory landed first.
 */
async function createCaDir(dir: string): Promise<boolean> {
  mkdirSync(dirname(dir), { recursive: true });
  const temp = mkdtempSync(`${dir}.tmp-`); // mode 0700: the directory holds private keys
  try {
    await writeCa(temp);
    await issueServerCert(temp);
    renameSync(temp, dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    if (existsSync(files(dir).caCert)) return false;
    throw new Error(`${dir} exists without ca.pem; delete it to create a new dev CA`);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

async function writeCa(dir: string): Promise<void> {
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
  const notBefore = new Date(Date.now() - 3_600_000); // an hour back tolerates clock skew
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=Airlock dev CA ${userInfo().username}@${hostname()},O=Airlock development`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      localhostOnly(),
    ],
  });
  replaceFile(files(dir).caKey, await privateKeyPem(keys.privateKey));
  replaceFile(files(dir).caCert, cert.toString("pem"));
}

/**
 * Name constraints limit the CA to localhost names and 127.0.0.1: its key sits
 * unencrypted on disk, and whoever reads it must not be able to impersonate real sites
 * to a machine that trusts this CA. (`localhost` covers every `*.localhost` name.)
 */
function localhostOnly(): x509.Extension {
  const constraints = new NameConstraints({
    permittedSubtrees: new GeneralSubtrees([
      new GeneralSubtree({ base: new GeneralName({ dNSName: "localhost" }) }),
      new GeneralSubtree({ base: new GeneralName({ iPAddress: "127.0.0.1/32" }) }),
    ]),
  });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(constraints));
}

function serverNeedsIssuing(dir: string): boolean {
  const { serverCert, serverKey } = files(dir);
  if (!existsSync(serverCert) || !existsSync(serverKey)) return true;
  const notAfter = new x509.X509Certificate(readFileSync(serverCert, "utf8")).notAfter;
  return notAfter.getTime() - Date.now() < RENEW_BEFORE_DAYS * DAY_MS;
}

async function issueServerCert(dir: string): Promise<void> {
  const paths = files(dir);
  const caCert = new x509.X509Certificate(readFileSync(paths.caCert, "utf8"));
  const caKey = await crypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(readFileSync(paths.caKey, "utf8")),
    KEY_ALGORITHM,
    false,
    ["sign"],
  );
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
  const notBefore = new Date(Date.now() - 3_600_000);
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${DEV_DOMAIN},O=Airlock development`,
    issuer: caCert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + SERVER_VALIDITY_DAYS * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: DEV_DOMAIN },
        { type: "dns", value: `*.${DEV_DOMAIN}` },
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // File by file: a renewal (once in two years) racing another run's start is not worth a lock.
  replaceFile(paths.serverKey, await privateKeyPem(keys.privateKey));
  replaceFile(paths.serverCert, cert.toString("pem"));
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** Where the CA is and how to make each kind of client trust it. */
export function howToTrust(ca: DevCa, exampleUrl: string): string {
  const pem = ca.caCertPath;
  return [
    `[airlock] ${ca.created ? "Created a dev CA" : "Dev CA"}: ${pem} (valid for localhost names only). To trust it:`,
    `  curl      curl --cacert ${pem} ${exampleUrl}`,
    `  Node      export NODE_EXTRA_CA_CERTS=${pem}`,
    `  Debian    sudo cp ${pem} /usr/local/share/ca-certificates/airlock-dev-ca.crt && sudo update-ca-certificates`,
    `  macOS     sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${pem}`,
    `  Chrome on Linux (libnss3-tools)   certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "Airlock dev CA" -i ${pem}`,
    `  Firefox   Settings > Privacy & Security > View Certificates > Authorities > Import`,
  ].join("\n");
}
