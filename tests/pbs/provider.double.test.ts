/**
 * The PBS dynamic provider, closure-serialized as the engine runs it, against the double of
 * proxmox/proxmox-backup 4.2.3: every object of the reference stack is created, read back without a
 * diff, updated and removed; existing objects are adopted; lost answers and transient errors are
 * survived without duplicates; secrets never reach errors or logs; the certificate is pinned.
 */
import { createHash, X509Certificate } from "node:crypto";
import { JOB_IDS, type PbsObjectSpec } from "../../analysis/pbs/objects";
import { startPbsDouble, type PbsDouble } from "./double/server";
import { admin, api, inputsOf, referencePlan, serializedPbsProvider, type Provider } from "./helpers";

let provider: Provider;
let d: PbsDouble;
const plan = referencePlan();
const spec = (name: string): PbsObjectSpec => plan.objects.find((o) => o.name === name)!;

beforeAll(async () => {
  provider = await serializedPbsProvider();
});
beforeEach(async () => {
  d = await startPbsDouble({ reachableBuckets: ["homelab-backups"] });
});
afterEach(() => d.close());

/** Creates every object of the reference plan in order; returns the outputs by name. */
async function applyAll(): Promise<Map<string, { id: string; outs: Record<string, unknown> }>> {
  const out = new Map<string, { id: string; outs: Record<string, unknown> }>();
  for (const s of plan.objects) {
    const inputs = inputsOf(d, s);
    const checked = await provider.check({}, inputs);
    expect(checked.failures).toEqual([]);
    const r = await provider.create(checked.inputs);
    out.set(s.name, { id: r.id, outs: r.outs as Record<string, unknown> });
  }
  return out;
}

describe("PBS provider (double of proxmox-backup 4.2.3, serialized closure)", () => {
  it("creates every object of the reference stack, which then reads back without a diff", async () => {
    const made = await applyAll();
    expect([...d.state.datastores.keys()].sort()).toEqual(["pbs-offsite", "store"]);
    expect(d.state.datastores.get("pbs-offsite")).toMatchObject({
      backend: "type=s3,client=homelab-vault,bucket=homelab-backups",
      path: "/mnt/datastore/pbs-offsite-cache",
    });
    expect(d.state.jobs.prune.get(JOB_IDS.prune)).toMatchObject({
      store: "store",
      "keep-daily": 7,
      "keep-weekly": 4,
      "keep-monthly": 6,
    });
    expect(d.state.jobs.sync.get(JOB_IDS.offsiteSync)).toMatchObject({
      store: "pbs-offsite",
      "remote-store": "store",
      "verified-only": true,
    });
    expect(d.state.jobs.verification.get(JOB_IDS.offsiteVerify)).toMatchObject({
      "outdated-after": 90,
      "ignore-verified": true,
    });
    expect(d.state.s3.get("homelab-vault")).toMatchObject({
      "secret-key": "test-s3-secret-key-value",
      region: "eu-central-1",
    });
    expect(d.state.notifications.get("gotify")?.secrets).toEqual({ token: "test-gotify-token-value" });
    for (const s of plan.objects) {
      const { id, outs } = made.get(s.name)!;
      const read = await provider.read(id, outs);
      expect(read.id).toBe(id);
      const diff = await provider.diff(id, read.props, inputsOf(d, s));
      expect({ name: s.name, changes: diff.changes }).toEqual({ name: s.name, changes: false });
    }
    // Every call was authenticated with the admin token and accepted.
    expect(d.calls.filter((c) => c.status !== 200)).toEqual([]);
  });

  it("gives the PVE token exactly DatastoreBackup: it sees its datastore, cannot prune and cannot configure", async () => {
    const made = await applyAll();
    const token = made.get("pbs-token-pve-backup")!.outs;
    expect(token["tokenValue"]).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    const pve = { id: plan.pveTokenId, secret: String(token["tokenValue"]) };
    // PBSPlugin.pm activate_storage lists the datastores and needs its own there.
    const list = await api(d, "GET", "/admin/datastore", pve);
    expect(list.json!.data).toEqual([expect.objectContaining({ store: "store" })]);
    expect(d.state.acl.privs(pve.id, ["datastore", "store"])).toEqual(new Set(["Datastore.Backup"]));
    expect(d.state.acl.privs(pve.id, ["datastore", "pbs-offsite"])).toEqual(new Set());
    expect(
      (await api(d, "POST", "/admin/datastore/store/prune", pve, { "backup-type": "vm", "backup-id": "101" }))
        .text,
    ).toBe("missing permissions 'Datastore.Modify|Datastore.Prune' on '/datastore/store'");
    expect(
      (
        await api(d, "POST", "/config/prune", pve, {
          id: "evil",
          store: "store",
          schedule: "daily",
          "keep-last": 1,
        })
      ).text,
    ).toBe("missing permissions 'Datastore.Modify' on '/datastore/store'");
    const metrics = made.get("pbs-token-metrics")!.outs;
    const m = { id: plan.metricsTokenId, secret: String(metrics["tokenValue"]) };
    expect(d.state.acl.privs(m.id, ["datastore", "pbs-offsite"])).toEqual(new Set(["Datastore.Audit"]));
    expect((await api(d, "GET", "/admin/verify", m)).json!.data).toHaveLength(2);
  });

  it("updates a changed field in place and deletes a field the program no longer sets", async () => {
    const s = spec("pbs-verify");
    const created = await provider.create(inputsOf(d, s));
    const news = inputsOf(d, { ...s, body: { ...s.body, schedule: "03:00", "outdated-after": 14 } });
    const diff = await provider.diff(created.id, created.outs, news);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    await provider.update(created.id, created.outs, news);
    expect(d.state.jobs.verification.get(JOB_IDS.verify)).toMatchObject({
      schedule: "03:00",
      "outdated-after": 14,
    });
    const { comment: _c, ...withoutComment } = news["body"] as Record<string, unknown>;
    const later = inputsOf(d, { ...s, body: withoutComment });
    await provider.update(created.id, news, later);
    expect(d.state.jobs.verification.get(JOB_IDS.verify)).not.toHaveProperty("comment");
    const put = d.calls.filter((c) => c.method === "PUT");
    expect(put.map((c) => c.keys)).toEqual([
      ["digest", "outdated-after", "schedule"],
      ["delete", "digest"],
    ]);
  });

  it("adopts objects that already exist under the same id instead of creating duplicates", async () => {
    await api(d, "POST", "/config/datastore", admin(d), { name: "store", path: "/mnt/datastore/store" });
    await api(d, "POST", "/config/prune", admin(d), {
      id: JOB_IDS.prune,
      store: "store",
      schedule: "weekly",
      "keep-last": 1,
    });
    const before = d.calls.length;
    await provider.create(inputsOf(d, spec("pbs-datastore")));
    const r = await provider.create(inputsOf(d, spec("pbs-prune")));
    expect(r.id).toBe(`pruneJob:${JOB_IDS.prune}`);
    const writes = d.calls.slice(before).filter((c) => c.method !== "GET");
    expect(writes.map((c) => `${c.method} ${c.path}`)).toEqual([
      "PUT /config/datastore/store",
      `PUT /config/prune/${JOB_IDS.prune}`,
    ]);
    expect([...d.state.jobs.prune.keys()]).toEqual([JOB_IDS.prune]);
    // keep-last was set by hand and is not managed: it stays.
    expect(d.state.jobs.prune.get(JOB_IDS.prune)).toMatchObject({
      schedule: "05:00",
      "keep-last": 1,
      "keep-daily": 7,
    });
  });

  it("regenerates an adopted token's secret (PBS shows a secret only once) and the new one authenticates", async () => {
    await api(d, "POST", "/access/users", admin(d), { userid: "pve-backup@pbs" });
    await api(d, "POST", "/access/users/pve-backup@pbs/token/pve", admin(d), {});
    const r = await provider.create(inputsOf(d, spec("pbs-token-pve-backup")));
    const value = String(r.outs["tokenValue"]);
    // The hand-made token had no comment: the managed comment is set in the same call.
    expect(
      d.calls.find((c) => c.method === "PUT" && c.path === "/access/users/pve-backup@pbs/token/pve")?.keys,
    ).toEqual(["comment", "digest", "regenerate"]);
    expect((await api(d, "GET", "/version", { id: "pve-backup@pbs!pve", secret: value })).status).toBe(200);
  });

  it("refuses to move an existing datastore and changes nothing", async () => {
    await api(d, "POST", "/config/datastore", admin(d), { name: "store", path: "/srv/other" });
    const writes = d.writes().length;
    await expect(provider.create(inputsOf(d, spec("pbs-datastore")))).rejects.toThrow(
      /datastore store exists on PBS with path "\/srv\/other", the config wants "\/mnt\/datastore\/store"; PBS cannot change path/,
    );
    expect(d.writes().length).toBe(writes);
  });

  it("survives a lost answer after the write: the retry reads, finds and adopts (no duplicate)", async () => {
    await provider.create(inputsOf(d, spec("pbs-datastore")));
    d.dropAfterApply("POST", /^\/config\/prune$/);
    await provider.create(inputsOf(d, spec("pbs-prune")));
    expect([...d.state.jobs.prune.keys()]).toEqual([JOB_IDS.prune]);
    expect(d.calls.filter((c) => c.method === "POST" && c.path === "/config/prune")).toHaveLength(1);
  });

  it("survives a lost token answer by regenerating, so the stored secret is the valid one", async () => {
    await provider.create(inputsOf(d, spec("pbs-user-pve-backup")));
    d.dropAfterApply("POST", /\/token\/pve$/);
    const r = await provider.create(inputsOf(d, spec("pbs-token-pve-backup")));
    expect(
      (await api(d, "GET", "/version", { id: plan.pveTokenId, secret: String(r.outs["tokenValue"]) })).status,
    ).toBe(200);
  });

  it("retries 503s from a restarting proxy and gives up on a real refusal at once", async () => {
    // The version lookup too: a failed lookup is asked again, not remembered for the run.
    d.failNext("GET", /^\/version$/, 503, "Service Unavailable");
    d.failNext("GET", /^\/config\/prune$/, 503, "Service Unavailable", 2);
    await provider.create(inputsOf(d, spec("pbs-datastore")));
    await provider.create(inputsOf(d, spec("pbs-prune")));
    expect(d.state.jobs.prune.size).toBe(1);
    d.failNext("POST", /^\/config\/verify$/, 400, "parameter verification failed - 'store': nope");
    const before = d.calls.length;
    await expect(provider.create(inputsOf(d, spec("pbs-verify")))).rejects.toThrow(
      /400 parameter verification failed/,
    );
    expect(d.calls.slice(before).filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it("keeps secrets out of errors and logs, even when PBS echoes them", async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const s = spec("pbs-notify-gotify");
      d.failNext(
        "POST",
        /gotify$/,
        400,
        "bad token test-gotify-token-value for root@pam!homelab:" + d.adminSecret,
      );
      const err = await provider.create(inputsOf(d, s)).catch((e: Error) => e);
      expect(String(err)).toContain("bad token [secret]");
      expect(String(err)).not.toContain("test-gotify-token-value");
      expect(String(err)).not.toContain(d.adminSecret);
      d.failNext("GET", /gotify$/, 503, `busy ${d.adminSecret}`);
      await provider.create(inputsOf(d, s));
      expect(writes.join("")).toContain("busy [secret]");
      expect(writes.join("")).not.toContain(d.adminSecret);
    } finally {
      spy.mockRestore();
    }
  });

  it("sends nothing to a server whose certificate is not the pinned one", async () => {
    const wrong = inputsOf(d, spec("pbs-datastore"), { fingerprint: `${"00:".repeat(31)}00` });
    await expect(provider.create(wrong)).rejects.toThrow(/not the pinned .*nothing was sent/);
    expect(d.calls).toEqual([]);
  });

  it("refuses a PBS older than 4.1.9 before any write (double of proxmox-backup 4.1.8)", async () => {
    const old = await startPbsDouble({ version: "4.1", release: "8" });
    try {
      await expect(provider.create(inputsOf(old, spec("pbs-datastore")))).rejects.toThrow(
        /runs Proxmox Backup Server 4\.1\.8; this program needs 4\.1\.9 or later .* Nothing was changed/,
      );
      expect(old.writes()).toEqual([]);
    } finally {
      await old.close();
    }
  });

  it("reads the certificate fingerprint Proxmox VE pins, and the public-key pin curl uses", async () => {
    const r = await provider.create({
      ...inputsOf(d, spec("pbs-datastore")),
      kind: "certificate",
      key: "proxy.pem",
      body: {},
    });
    const x = new X509Certificate(d.certificatePem);
    expect(r.outs["certificate"]).toEqual({
      fingerprint: x.fingerprint256.toLowerCase(),
      publicKeyPin: `sha256//${createHash("sha256")
        .update(x.publicKey.export({ type: "spki", format: "der" }))
        .digest("base64")}`,
      notAfter: Math.floor(Date.parse(x.validTo) / 1000),
    });
  });

  it("reports an object removed on PBS as gone, and deleting it again is fine", async () => {
    const s = spec("pbs-datastore");
    await provider.create(inputsOf(d, s));
    const r = await provider.create(inputsOf(d, spec("pbs-prune")));
    await api(d, "DELETE", `/config/prune/${JOB_IDS.prune}`, admin(d));
    expect((await provider.read(r.id, r.outs)).id).toBe("");
    await provider.delete(r.id, r.outs);
  });

  it("removes a datastore's configuration only (keep-job-configs, never destroy-data)", async () => {
    const r = await provider.create(inputsOf(d, spec("pbs-datastore")));
    await provider.create(inputsOf(d, spec("pbs-prune")));
    await provider.delete(r.id, r.outs);
    expect(d.state.datastores.has("store")).toBe(false);
    expect(d.state.jobs.prune.has(JOB_IDS.prune)).toBe(true);
    expect(d.calls.find((c) => c.method === "DELETE")?.keys).toEqual(["keep-job-configs"]);
  });
});
