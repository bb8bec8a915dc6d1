import { renderIngress } from "../../analysis/ingress";
import { ingressFacts } from "../../analysis/ingress/facts";
import { resolveNetwork } from "../../model";
import { allSecretsSet, networkFile } from "../fixtures/reference";

const model = resolveNetwork(networkFile().raw, allSecretsSet);
const cfg = Object.entries(renderIngress(model).files).find(([p]) => p.endsWith("/haproxy.cfg"))![1];

describe("ingress facts read back from the rendered haproxy.cfg", () => {
  it("sees every reference route on TLS, gated by SSO unless public", () => {
    const facts = ingressFacts(model, cfg);
    expect(facts.routes).toHaveLength(6);
    for (const r of facts.routes) expect(r).toMatchObject({ tls: true, sso: !r.public });
  });

  it("notices a host whose forward-auth is skipped for every path", () => {
    const broken = cfg.replace(
      "http-request lua.authelia-forward-auth",
      "http-request set-var(txn.sso_skip) bool(true) if host_grafana_home_example_net\n  http-request lua.authelia-forward-auth",
    );
    const grafana = ingressFacts(model, broken).routes.find((r) => r.host === "grafana.home.example.net");
    expect(grafana).toMatchObject({ sso: false, tls: true });
  });

  it("notices a host routed by a plain-HTTP frontend", () => {
    const broken = cfg.replace(
      "  http-request redirect scheme https code 301",
      "  use_backend be_grafana if host_grafana_home_example_net",
    );
    expect(ingressFacts(model, broken).routes.find((r) => r.host === "grafana.home.example.net")?.tls).toBe(
      false,
    );
  });
});
