// Scales the reference homelab by replicating its segments, flows, services, stacks and datasets
// k times under new names, VLANs, CIDRs and ports, so the result is valid and k times as large.
type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const clone = <T>(v: T): T => structuredClone(v);

export function scaleHomelab(network: Raw, storage: Raw, k: number): { network: Raw; storage: Raw } {
  const net = clone(network);
  const sto = clone(storage);
  const nodeAddr = (net.hosts as Raw[]).find((h) => h.name === sto.storageNode.host)!.address as string;
  const storageServiceNames = new Set<string>(
    (sto.stacks as Raw[]).flatMap((s) => s.services.map((v: Raw) => v.name)),
  );
  const baseSegments = clone(net.segments) as Raw[];
  const baseFlows = clone(net.flows) as Raw[];
  const baseStacks = clone(sto.stacks) as Raw[];
  const baseDatasets = clone(sto.datasets) as Raw[];
  let port = 20000;

  for (let r = 1; r < k; r++) {
    const sfx = (n: string) => `${n}-${r}`;
    baseSegments.forEach((seg, i) => {
      const n = r * baseSegments.length + i;
      // Each copy is its own OPNsense interface (the reference holds lan and opt1..opt5); Wi-Fi stays
      // with the originals, since an SSID is unique.
      const { wifi: _wifi, ...plain } = seg;
      net.segments.push({
        ...plain,
        name: sfx(seg.name),
        vlan: 100 + n,
        cidr: `10.${100 + Math.floor(n / 256)}.${n % 256}.0/24`,
        interface: { key: `opt${n}` },
      });
      net.hosts.push({
        name: sfx(`h-${seg.name}`),
        segment: sfx(seg.name),
        address: `10.${100 + Math.floor(n / 256)}.${n % 256}.10`,
      });
    });
    const rename = (ref: string) => {
      const [kind, name] = ref.split(":");
      if (kind === "segment") return `segment:${sfx(name!)}`;
      if (kind === "service" && storageServiceNames.has(name!)) return `service:${sfx(name!)}`;
      return ref;
    };
    for (const f of baseFlows) net.flows.push({ ...f, from: rename(f.from), to: rename(f.to) });
    for (const d of baseDatasets) sto.datasets.push({ ...d, name: sfx(d.name) });
    for (const st of baseStacks) {
      const local = new Set((st.networks ?? []).map((n: Raw) => n.name));
      // One Docker socket proxy per host: copies would (rightly) fail container-docker-socket.
      const services = (st.services as Raw[])
        .filter((svc) => svc.preset !== "socket-proxy")
        .map((svc) => {
          const ports = (svc.ports ?? []).map((p: Raw) =>
            p.address === "127.0.0.1"
              ? { ...p, published: port++ }
              : { ...p, address: nodeAddr, published: port++ },
          );
          const copy: Raw = {
            ...svc,
            name: sfx(svc.name),
            ports,
            volumes: (svc.volumes ?? []).map((v: Raw) => (v.dataset ? { ...v, dataset: sfx(v.dataset) } : v)),
            dependsOn: (svc.dependsOn ?? []).map(sfx),
            networks: (svc.networks ?? []).map((n: string) => (local.has(n) ? sfx(n) : n)),
          };
          const published = ports.find((p: Raw) => p.address !== "127.0.0.1");
          if (published) {
            net.services.push({ name: copy.name, host: sto.storageNode.host, port: published.published });
            if (copy.networks.includes("ingress"))
              net.ingress.routes.push({ host: `${copy.name}.${net.domain}`, service: copy.name });
          }
          return copy;
        });
      sto.stacks.push({
        ...st,
        name: sfx(st.name),
        networks: (st.networks ?? []).map((n: Raw) => ({ ...n, name: sfx(n.name) })),
        services,
      });
    }
  }
  // The replicated services reference the same secrets; the reference keys cover them.
  return { network: net, storage: sto };
}
