import type { NetworkModel } from "../../model";
import type { IngressFacts } from "../../model/facts";

const aclOf = (host: string): string => `host_${host.replace(/[.-]/g, "_")}`;

/** Splits haproxy.cfg into its sections, keyed by header line ("frontend https_in"). */
function sections(cfg: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = "";
  for (const line of cfg.split("\n")) {
    if (/^\S/.test(line) && !line.startsWith("#")) out.set((current = line.trim()), []);
    else if (current) out.get(current)!.push(line.trim());
  }
  return out;
}

/**
 * What the rendered haproxy.cfg does for each route, read back from the file itself (not from the
 * config that produced it), so the ingress-tls-sso policy judges what is deployed: a route is TLS when
 * an `ssl crt` frontend routes it and no plain frontend does; it is SSO-gated when that frontend runs
 * forward-auth and no rule skips it for the whole host.
 */
export function ingressFacts(model: Pick<NetworkModel, "routes">, haproxyCfg: string): IngressFacts {
  const s = sections(haproxyCfg);
  const frontends = [...s.entries()].filter(([h]) => h.startsWith("frontend "));
  const tlsFrontends = frontends.filter(([, lines]) => lines.some((l) => /^bind .* ssl crt /.test(l)));
  const plain = frontends.filter(([h]) => !tlsFrontends.some(([t]) => t === h));
  const authLine = (lines: string[]) =>
    lines.some((l) => /^http-request lua\.authelia-forward-auth .* if !sso_skip$/.test(l));
  return {
    routes: model.routes.map((r) => {
      const acl = aclOf(r.host);
      const routes = (lines: string[]) =>
        lines.some((l) => l.startsWith("use_backend ") && l.endsWith(` if ${acl}`));
      const served = tlsFrontends.find(([, lines]) => routes(lines));
      const servedPlain = plain.some(([, lines]) => routes(lines));
      const lines = served?.[1] ?? [];
      const skipsWholeHost = lines.some(
        (l) => l === `http-request set-var(txn.sso_skip) bool(true) if ${acl}`,
      );
      return {
        host: r.host,
        service: r.service,
        public: r.public,
        tls: served !== undefined && !servedPlain,
        sso: served !== undefined && authLine(lines) && !skipsWholeHost,
      };
    }),
  };
}
