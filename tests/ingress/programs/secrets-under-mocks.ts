/**
 * Runs the real program (program.ts) for the network stack under Pulumi's mocks, the way
 * tools/plan/evaluate.ts does, but as an update (not a preview) so key checks are strict, with
 * real-looking secrets: a generated certificate and WireGuard keys whose public halves replace the
 * reference peers' keys. Run in its own process (Pulumi's runtime is process-global and its closure
 * serializer does not work inside jest's VM). Prints facts as JSON, never the secret values themselves.
 */
import { generateKeyPairSync } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NAMESPACE, readStackFile } from "../../../model";
import { planMocks } from "../../../tools/plan/mocks";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
type Wire = Record<string, unknown>;
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): Wire } | undefined;
}
const isWireSecret = (v: unknown): v is Wire & { value: unknown } =>
  typeof v === "object" && v !== null && (v as Wire)[SECRET_SIG] === SECRET_VALUE;

function wgKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const raw = (der: Buffer) => der.subarray(der.length - 32).toString("base64");
  return {
    privateKey: raw(privateKey.export({ format: "der", type: "pkcs8" })),
    publicKey: raw(publicKey.export({ format: "der", type: "spki" })),
  };
}

function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "ingress-mocks-"));
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "k.pem",
      "-out",
      "c.pem",
      "-days",
      "1",
      "-subj",
      "/CN=*.home.example.net",
    ],
    { cwd: dir, encoding: "utf8", timeout: 20_000 },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert: readFileSync(join(dir, "c.pem"), "utf8"), key: readFileSync(join(dir, "k.pem"), "utf8") };
}

async function run() {
  const server = wgKeyPair();
  const laptop = wgKeyPair();
  const phone = wgKeyPair();
  const pki = selfSigned();
  const file = readStackFile(
    join(process.env["HOMELAB_ROOT"] ?? join(__dirname, "..", "..", ".."), "Pulumi.network.yaml"),
  );
  const secretValues: Record<string, string> = {
    ingressTlsCertificate: pki.cert,
    ingressTlsKey: pki.key,
    wireguardServerPrivateKey: server.privateKey,
    wireguardPeerAdminLaptopKey: laptop.privateKey,
    wireguardPeerAdminPhoneKey: phone.privateKey,
  };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(file.all)) {
    const short = key.slice(NAMESPACE.length + 1);
    if (file.secureKeys.has(key)) {
      secretKeys.push(key);
      config[key] = secretValues[short] ?? `mock-secret-${short}`;
    } else if (key === `${NAMESPACE}:wireguard`) {
      const wg = structuredClone(value) as { peers: { name: string; publicKey: string }[] };
      for (const p of wg.peers) p.publicKey = p.name === "admin-laptop" ? laptop.publicKey : phone.publicKey;
      config[key] = JSON.stringify(wg);
    } else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  // The reference issues its certificate through ACME; this program checks the static opt-out, whose
  // bundle the deploy itself writes from two secrets.
  const ingress = structuredClone(file.all[`${NAMESPACE}:ingress`]) as Record<string, unknown>;
  ingress["tls"] = { certificate: { secret: "ingressTlsCertificate" }, key: { secret: "ingressTlsKey" } };
  config[`${NAMESPACE}:ingress`] = JSON.stringify(ingress);
  for (const k of ["ingressTlsCertificate", "ingressTlsKey"]) {
    config[`${NAMESPACE}:${k}`] = secretValues[k]!;
    secretKeys.push(`${NAMESPACE}:${k}`);
  }
  // The ACME DNS token is no longer referenced: a leftover secret is a config error of its own.
  delete config[`${NAMESPACE}:acmeDnsApiToken`];
  const keys = secretKeys.filter((k) => k !== `${NAMESPACE}:acmeDnsApiToken`);
  process.env["PULUMI_CONFIG"] = JSON.stringify(config);
  process.env["PULUMI_CONFIG_SECRET_KEYS"] = JSON.stringify(keys);
  process.env["PULUMI_NODEJS_PROJECT"] = "homelab";
  process.env["PULUMI_NODEJS_STACK"] = "network";

  const pulumi = await import("@pulumi/pulumi");
  await pulumi.runtime.setMocks(planMocks({}), "homelab", "network", false);
  // Component outputs reach the monitor through registerResourceOutputs, serialized as the engine gets
  // them (secrets wrapped with the SDK's signature key): capture the Ingress's.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResourceOutputs(req: OutputsRequest, cb: (err: unknown, resp?: unknown) => void): void;
  };
  let resolveIngress: (o: Wire) => void = () => undefined;
  const ingressOutputs = new Promise<Wire>((resolve) => (resolveIngress = resolve));
  const original = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    if (req.getUrn().endsWith("homelab:network:Ingress::ingress"))
      resolveIngress(req.getOutputs()?.toJavaScript() ?? {});
    return original(req, cb);
  };
  const { main } = await import("../../../program");
  let returned: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    returned = (await main()) as unknown as Record<string, unknown>;
  });
  const outputs = await Promise.race([
    ingressOutputs,
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error("the Ingress component registered no outputs within 20 s")),
        20_000,
      ).unref(),
    ),
  ]);
  const files = outputs["files"];
  const fileValues = isWireSecret(files) ? (files.value as Record<string, string>) : {};
  const pem = fileValues["/fast/apps/haproxy/certs/ingress.pem"] ?? "";
  const plain = JSON.stringify({ ...outputs, files: undefined });

  const out = returned["wireguardPeerConfigs"] as import("@pulumi/pulumi").Output<Record<string, string>>;
  const peerConfigsSecret = await (out as unknown as { isSecret: Promise<boolean> }).isSecret;
  const configs = await new Promise<Record<string, string>>((resolve) => out.apply(resolve));
  const lines = (text: string | undefined, prefix: string) =>
    (text ?? "").split("\n").filter((l) => l.startsWith(prefix));

  const facts = {
    filesSecret: isWireSecret(files),
    filePaths: Object.keys(fileValues).sort(),
    pemHoldsCertAndKey: pem.includes(pki.cert.trim()) && pem.includes(pki.key.trim()),
    haproxyConfigPlain: plain.includes("frontend https_in"),
    plainHoldsKeyMaterial: plain.includes("PRIVATE KEY") || plain.includes(pki.cert.split("\n")[1]!),
    peerConfigsSecret,
    peers: Object.keys(configs).sort(),
    laptopHasItsPrivateKey: (configs["admin-laptop"] ?? "").includes(`PrivateKey = ${laptop.privateKey}`),
    phoneHasItsPrivateKey: (configs["admin-phone"] ?? "").includes(`PrivateKey = ${phone.privateKey}`),
    serverPublicKeyDerived:
      lines(configs["admin-laptop"], "PublicKey = ")[0] === `PublicKey = ${server.publicKey}`,
    allowedIps: lines(configs["admin-phone"], "AllowedIPs"),
  };
  await pulumi.runtime.disconnect();
  writeFileSync(1, `${JSON.stringify(facts)}\n`);
}

run().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
