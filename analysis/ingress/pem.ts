const CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/**
 * HAProxy's `crt` takes one PEM holding the certificate chain and the key. Errors never quote the input:
 * it is secret.
 */
export function combinePem(certificate: string, key: string): string {
  const certs = certificate.match(CERT);
  if (!certs || certs.length === 0)
    throw new Error("ingress TLS certificate: no PEM CERTIFICATE block found (expected leaf, then chain)");
  const k = KEY.exec(key);
  if (!k) throw new Error("ingress TLS key: no PEM PRIVATE KEY block found");
  if (k[0].includes("ENCRYPTED"))
    throw new Error(
      "ingress TLS key: encrypted keys cannot be loaded unattended; store it decrypted as a secret",
    );
  return `${[...certs, k[0]].join("\n")}\n`;
}
