/**
 * Dataset and file ownership from the services that mount them. Before: every dataset stayed ZFS's
 * root:root 0755 and the TLS bundle was written 0644, so no non-root service could write its data and
 * every local user could read the ingress private key.
 */
import { datasetAccess, fileAccess, serviceOwner } from "../../analysis/storage/ownership";
import { renderDatasetCommand } from "../../analysis/storage/zfs";
import { composeStack } from "../../model/services";
import { resolveNetwork, resolveStorage } from "../../model";
import { allSecretsSet, networkFile, rawOf, referenceContract, storageFile } from "../fixtures/reference";

const storage = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract()).config;
const network = resolveNetwork(rawOf(networkFile()), allSecretsSet).config;

describe("dataset owners on the reference homelab", () => {
  it("gives each dataset to the uid:gid its writing service runs as (the preset's user)", () => {
    const { access, issues } = datasetAccess(storage.datasets, storage.stacks);
    expect(issues).toEqual([]);
    const owner = (d: string) => access.get(d)!.owner;
    expect(owner("tank/apps/immich-postgres")).toBe("999:999");
    expect(owner("tank/apps/prometheus")).toBe("65534:65534");
    expect(owner("tank/apps/grafana")).toBe("472:0");
    expect(owner("tank/apps/immich-library")).toBe("1000:1000");
    // ollama runs unprivileged (HOME=/ollama, model/presets.ts): its dataset is its own.
    expect(owner("tank/apps/ollama")).toBe("1000:1000");
    expect(access.get("tank/apps/immich-postgres")!.mode).toBe("0750");
  });

  it("gives the ingress proxy's dataset to the proxy: config read-only, its runtime socket directory written", () => {
    const { access } = datasetAccess(network.datasets, network.stacks);
    expect(access.get("fast/apps/haproxy")).toMatchObject({
      owner: "99:99",
      mode: "0750",
      writers: ["ingress/haproxy"],
      readers: ["ingress/haproxy"],
    });
    expect(access.get("fast/apps/authelia")!.owner).toBe("8000:8000");
  });

  it("refuses two writers with different users, naming the second mount's path", () => {
    const st = composeStack.parse({
      name: "x",
      services: [
        {
          name: "a",
          image: "a:1",
          user: "1000:1000",
          volumes: [{ dataset: "tank/apps/shared", target: "/d" }],
        },
        {
          name: "b",
          image: "b:1",
          user: "999:999",
          volumes: [{ dataset: "tank/apps/shared", target: "/d" }],
        },
      ],
    });
    const { issues } = datasetAccess([{ name: "tank/apps/shared" } as never], [st]);
    expect(issues).toEqual([
      {
        path: "homelab:stacks[0].services[1].volumes[0].dataset",
        message: expect.stringContaining("a dataset has one owner"),
      },
    ]);
  });

  it("reads uid-only users as uid:uid and root as 0:0", () => {
    expect(serviceOwner({ user: "1000" })).toBe("1000:1000");
    expect(serviceOwner({ user: undefined })).toBe("0:0");
  });

  it("passes owner and mode to the root helper, the only command the deploy user may sudo", () => {
    const cmd = renderDatasetCommand(storage.datasets[1]!, { owner: "999:999", mode: "0750" });
    expect(cmd).toContain(
      "sudo -n /usr/local/sbin/homelab-root 'dataset' 'tank/apps/immich-postgres' '999:999' '0750' 'compression=lz4'",
    );
  });
});

describe("file modes", () => {
  const haproxy = network.stacks.find((s) => s.name === "ingress")!;
  const mount = (d: string) => `/${d}`;
  it("writes a key file 0600 owned by the one service that reads it, others 0644 root", () => {
    const files = ["/fast/apps/haproxy/haproxy.cfg", "/fast/apps/haproxy/ingress.pem"];
    expect(fileAccess(haproxy, files, new Set([files[1]!]), mount)).toEqual({
      "/fast/apps/haproxy/haproxy.cfg": { mode: "0644", owner: "0:0" },
      "/fast/apps/haproxy/ingress.pem": { mode: "0600", owner: "99:99" },
    });
  });
});
