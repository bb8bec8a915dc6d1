import { parse } from "yaml";
import {
  AUTHELIA_SECRET_ENV,
  bypassResource,
  combinePem,
  ingressLayout,
  ingressSpecFromModel,
  renderAutheliaConfig,
  renderHaproxyConfig,
  renderIngress,
  type IngressSpec,
} from "../../analysis/ingress";
import { isSecretRef, resolveNetwork } from "../../model";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";

const reference = () => resolveNetwork(networkFile().raw, allSecretsSet);
const lines = (cfg: string) => cfg.split("\n").map((l) => l.trim());

describe("ingress layout and spec from the reference model", () => {
  it("places files where the compose services mount them and binds the container ports", () => {
    const layout = ingressLayout(reference());
    expect(layout.haproxy).toEqual({
      hostDir: "/fast/apps/haproxy",
      containerDir: "/usr/local/etc/haproxy",
      https: 8443,
      http: 8080,
      metrics: 8405,
    });
    expect(layout.authelia).toMatchObject({
      hostDir: "/fast/apps/authelia",
      containerDir: "/config",
      port: 9091,
    });
    expect(Object.keys(renderIngress(reference()).files).sort()).toEqual([
      "/fast/apps/authelia/configuration.yml",
      "/fast/apps/haproxy/haproxy.cfg",
      "/fast/apps/haproxy/lua/authelia-forward-auth.lua",
    ]);
    // The reference issues through ACME: the renewal job writes the bundle here (tests/acme).
    expect(renderIngress(reference()).certificatePath).toBe("/fast/apps/haproxy/certs/acme.pem");
  });

  it("has one backend per service at the service's host address and port", () => {
    const spec = ingressSpecFromModel(reference());
    expect(spec.backends).toContainEqual({ name: "be_immich_server", address: "10.0.20.10", port: 2283 });
    expect(spec.backends).toContainEqual({ name: "be_home_assistant", address: "10.0.20.2", port: 8123 });
    expect(new Set(spec.backends.map((b) => b.name)).size).toBe(spec.backends.length);
    expect(spec.sso.authzUrl).toBe("http://10.0.20.2:9091/api/authz/forward-auth");
  });

  it("fails with the config path when the proxy does not mount its config dataset", () => {
    const raw = rawOf(networkFile()) as { stacks: { name: string; services: { volumes?: unknown[] }[] }[] };
    // Only HAProxy's runtime directory (which ACME needs) is left.
    raw.stacks.find((s) => s.name === "ingress")!.services[0]!.volumes = [
      { dataset: "fast/apps/haproxy", subPath: "run", target: "/run/haproxy" },
    ];
    const model = resolveNetwork(raw, allSecretsSet);
    expect(() => ingressLayout(model)).toThrow(
      /homelab:stacks: .*must mount a dataset at \/usr\/local\/etc\/haproxy/,
    );
  });
});

describe("renderHaproxyConfig", () => {
  const spec = () => ingressSpecFromModel(reference());
  const cfg = () => lines(renderHaproxyConfig(spec()));

  it("terminates TLS with the certificate, TLS 1.2+ only, and redirects :80 with 301", () => {
    const c = cfg();
    expect(c).toContain("bind :8443 ssl crt /usr/local/etc/haproxy/certs/acme.pem alpn h2,http/1.1");
    expect(c.find((l) => l.startsWith("ssl-default-bind-options"))).toContain("ssl-min-ver TLSv1.2");
    expect(c).toContain("http-request redirect scheme https code 301");
    expect(c).toContain(
      'http-after-response set-header Strict-Transport-Security "max-age=63072000; includeSubDomains"',
    );
  });

  it("gates every route by default and skips SSO only for public routes and bypass paths", () => {
    const c = cfg();
    const skips = c.filter((l) => l.startsWith("http-request set-var(txn.sso_skip)"));
    expect(skips).toEqual([
      "http-request set-var(txn.sso_skip) bool(true) if host_auth_home_example_net",
      "http-request set-var(txn.sso_skip) bool(true) if host_photos_home_example_net !suspicious_path { path /api } || host_photos_home_example_net !suspicious_path { path_beg /api/ }",
    ]);
    expect(c).toContain(
      "http-request lua.authelia-forward-auth http://10.0.20.2:9091/api/authz/forward-auth if !sso_skip",
    );
    expect(c).toContain(
      "http-request deny deny_status 503 if !sso_skip !{ var(txn.sso_decision) -m str allow }",
    );
  });

  it("routes each host to its backend and rejects unknown hosts", () => {
    const c = cfg();
    expect(c).toContain("use_backend be_immich_server if host_photos_home_example_net");
    expect(c).toContain("server immich_server 10.0.20.10:2283 check inter 10s");
    expect(
      c.some((l) => l.startsWith("http-request return status 404") && l.endsWith("if !known_host")),
    ).toBe(true);
    expect(c).toContain("http-request use-service prometheus-exporter if { path /metrics }");
  });

  it("refuses specs that would render a misleading config", () => {
    const s = spec();
    const without = (f: (x: IngressSpec) => IngressSpec) => () => renderHaproxyConfig(f(structuredClone(s)));
    expect(without((x) => ({ ...x, routes: x.routes.filter((r) => r.host !== x.sso.portalHost) }))).toThrow(
      /portal .* needs a route/,
    );
    expect(
      without((x) => ({
        ...x,
        routes: x.routes.map((r) => (r.host === x.sso.portalHost ? { ...r, public: false } : r)),
      })),
    ).toThrow(/must be public/);
    expect(
      without((x) => ({ ...x, routes: x.routes.map((r) => ({ ...r, bypassPaths: ["/api if TRUE"] })) })),
    ).toThrow(/plain absolute path/);
    expect(without((x) => ({ ...x, routes: [...x.routes, x.routes[1]!] }))).toThrow(/duplicate route/);
    expect(
      without((x) => ({ ...x, sso: { ...x.sso, authzUrl: "http://authelia:9091/api/authz/forward-auth" } })),
    ).toThrow(/Lua has no DNS/);
  });
});

describe("renderAutheliaConfig", () => {
  const rendered = () =>
    renderAutheliaConfig(ingressSpecFromModel(reference()), {
      configDir: "/config",
      port: 9091,
      metricsPort: 9959,
    });

  it("denies by default, mirrors public routes and bypass paths, and gates the rest with two factors", () => {
    const doc = parse(rendered().split("\n---\n")[1]!);
    expect(doc.access_control.default_policy).toBe("deny");
    expect(doc.access_control.rules).toEqual([
      { domain: "auth.home.example.net", policy: "bypass" },
      { domain: "photos.home.example.net", resources: ["^/api([/?].*)?$"], policy: "bypass" },
      { domain: "photos.home.example.net", policy: "two_factor" },
      { domain: "ha.home.example.net", policy: "two_factor" },
      { domain: "nvr.home.example.net", policy: "two_factor" },
      { domain: "chat.home.example.net", policy: "two_factor" },
      { domain: "grafana.home.example.net", policy: "two_factor" },
    ]);
    expect(doc.session.cookies).toEqual([
      { name: "authelia_session", domain: "home.example.net", authelia_url: "https://auth.home.example.net" },
    ]);
    expect(doc.storage).toEqual({ local: { path: "/config/db.sqlite3" } });
    expect(doc.notifier).toEqual({ filesystem: { filename: "/config/notification.txt" } });
  });

  it("holds no secret: they come from AUTHELIA_* variables the sso stack sets from Pulumi secrets", () => {
    const doc = parse(rendered().split("\n---\n")[1]!);
    expect(doc.session.secret).toBeUndefined();
    expect(doc.storage.encryption_key).toBeUndefined();
    expect(doc.identity_validation).toBeUndefined();
    const authelia = reference()
      .config.stacks.flatMap((s) => s.services)
      .find((s) => s.name === "authelia")!;
    for (const name of AUTHELIA_SECRET_ENV)
      expect([name, isSecretRef(authelia.env[name])]).toEqual([name, true]);
  });

  it("turns bypass paths into anchored resource regexes", () => {
    const re = new RegExp(bypassResource("/api"));
    expect(["/api", "/api/", "/api/x?y=1", "/api?x=1"].every((p) => re.test(p))).toBe(true);
    expect(["/apix", "/x/api", "/"].some((p) => re.test(p))).toBe(false);
    expect(bypassResource("/a.b")).toBe("^/a\\.b([/?].*)?$");
  });
});

describe("combinePem", () => {
  const cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
  const chain = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----";
  const key = "-----BEGIN PRIVATE KEY-----\nSECRETKEYDATA\n-----END PRIVATE KEY-----";

  it("puts the chain first and the key last, as HAProxy's crt expects", () => {
    expect(combinePem(`${cert}\n${chain}\n`, key)).toBe(`${cert}\n${chain}\n${key}\n`);
  });

  it("rejects a missing key or certificate without quoting the input", () => {
    expect(() => combinePem(cert, "SECRETKEYDATA")).toThrow(/no PEM PRIVATE KEY/);
    try {
      combinePem("SECRETKEYDATA", key);
    } catch (e) {
      expect(String(e)).not.toContain("SECRETKEYDATA");
    }
    expect(() => combinePem("nope", key)).toThrow(/CERTIFICATE/);
  });
});
