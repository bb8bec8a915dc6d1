import { ConfigError, resolveNetwork, resolveStorage } from "../../model";
import { allSecretsSet, networkFile, rawOf, referenceContract, storageFile } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const errors = (run: () => unknown): string[] => {
  try {
    run();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
};
const network = (mutate: (r: Raw) => void) => {
  const raw = rawOf(networkFile()) as Raw;
  mutate(raw);
  return errors(() => resolveNetwork(raw, allSecretsSet));
};
const storage = (mutate: (r: Raw) => void) => {
  const raw = rawOf(storageFile()) as Raw;
  mutate(raw);
  return errors(() => resolveStorage(raw, allSecretsSet, referenceContract()));
};

// Each of these was parsed and then ignored by every component, analysis and policy (found by changing
// every config leaf of the reference stacks and comparing the plans). A setting that does nothing is a
// promise the program does not keep: they are rejected now, saying what to do instead.
describe("settings that never did anything are rejected with what to write instead", () => {
  it("segments[].internet (egress is a flow to internet)", () => {
    expect(network((r) => (r.segments[3].internet = true))).toEqual([
      "homelab:segments[3].internet: was removed: internet egress is not a segment setting: add a flow { from: segment:<name>, to: internet, reason: ... } (it never did anything)",
    ]);
  });

  it("hosts[].description (deployed nowhere)", () => {
    expect(network((r) => (r.hosts[0].description = "gateway"))).toEqual([
      "homelab:hosts[0].description: was removed: a host's description was never deployed anywhere; keep it as a YAML comment",
    ]);
  });

  it("proxmox.backupServer.backup (the backup server is never backed up into itself)", () => {
    expect(storage((r) => (r.proxmox.backupServer.backup = false))).toEqual([
      "homelab:proxmox.backupServer.backup: was removed: the backup server is never backed up into itself; remove the key",
    ]);
  });

  it("proxmox.vms[] sizing (those VMs are not created by this program)", () => {
    const errs = storage(
      (r) =>
        (r.proxmox.vms = [{ name: "ha", vmId: 300, cores: 2, address: "10.0.20.30", templateVmId: 9000 }]),
    );
    expect(errs).toEqual([
      expect.stringMatching(/^homelab:proxmox\.vms\[0\]\.cores: was removed: this program does not create/),
      expect.stringMatching(/^homelab:proxmox\.vms\[0\]\.address: was removed/),
      expect.stringMatching(/^homelab:proxmox\.vms\[0\]\.templateVmId: was removed/),
    ]);
    expect(
      storage(
        (r) => (r.proxmox.vms = [{ name: "ha", vmId: 300, backup: false, backupReason: "rebuilt from git" }]),
      ),
    ).toEqual([]);
  });

  it("dockerHost.socketProxy.address and .port (the proxy's compose ports decide where it listens)", () => {
    const errs = storage((r) =>
      Object.assign(r.dockerHost.socketProxy, { address: "127.0.0.1", port: 2375 }),
    );
    expect(errs).toEqual([
      expect.stringMatching(
        /^homelab:dockerHost\.socketProxy\.address: was removed: where the socket proxy listens/,
      ),
      expect.stringMatching(/^homelab:dockerHost\.socketProxy\.port: was removed/),
    ]);
  });
});
