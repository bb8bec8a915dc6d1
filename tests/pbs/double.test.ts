/**
 * The double of the PBS API refuses what the real one refuses (proxmox/proxmox-backup 4.2.3-1
 * bc863d45e, proxmox/proxmox-rs f3305009), answering with its status codes and message texts. Each case
 * names the upstream file it follows.
 */
import { pinnedRequest } from "../../components/pbs/transport";
import { startPbsDouble, type PbsDouble } from "./double/server";
import { admin, api } from "./helpers";

let d: PbsDouble;
beforeAll(async () => {
  d = await startPbsDouble({ reachableBuckets: ["homelab-backups"] });
});
afterAll(() => d.close());

const raw = (headers: Record<string, string>, path = "/version", method = "GET", body?: string) =>
  pinnedRequest({
    method,
    url: `${d.url}/api2/json${path}`,
    headers,
    ...(body ? { body } : {}),
    timeoutMs: 5000,
    fingerprint: d.fingerprint,
  });

describe("authentication (proxmox-auth-api src/api/mod.rs, proxmox-backup src/auth.rs) (double of proxmox-backup 4.2.3)", () => {
  it("answers with the {data} envelope for a valid token in either header form", async () => {
    for (const sep of ["=", " "]) {
      const r = await raw({ Authorization: `PBSAPIToken${sep}${d.adminTokenId}:${d.adminSecret}` });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({
        data: { version: "4.2", release: "3", repoid: expect.any(String) },
      });
    }
  });

  it.each([
    ["no header", {}],
    ["a PVE token header", { Authorization: `PVEAPIToken=${"root@pam!homelab"}=x` }],
    ["a bearer token", { Authorization: "Bearer abc" }],
    ["a wrong secret", { Authorization: "PBSAPIToken=root@pam!homelab:wrong" }],
    ["a user id instead of a token id", { Authorization: "PBSAPIToken=root@pam:x" }],
    ["no separator after the prefix", { Authorization: "PBSAPITokenroot@pam!homelab:x" }],
  ])("refuses %s with 401 authentication failed", async (_what, headers) => {
    const r = await raw(headers as Record<string, string>);
    expect(r).toEqual({ status: 401, text: "authentication failed" });
  });

  it("refuses a disabled token (CachedUserInfo::is_active_auth_id)", async () => {
    await api(d, "POST", "/access/users", admin(d), { userid: "off@pbs" });
    const t = await api(d, "POST", "/access/users/off@pbs/token/t1", admin(d), { enable: false });
    const value = (t.json!.data as { value: string }).value;
    expect((await api(d, "GET", "/version", { id: "off@pbs!t1", secret: value })).status).toBe(401);
  });

  it("answers 404 for an unknown path after authentication (proxmox-rest-server src/rest.rs)", async () => {
    const r = await api(d, "GET", "/config/nothing", admin(d));
    expect(r).toMatchObject({ status: 404, text: "Path '/api2/json/config/nothing' not found." });
  });
});

describe("parameters (proxmox-schema src/schema.rs, proxmox-rest-server src/rest.rs)", () => {
  it("refuses an integer sent as a string in a JSON body (verify_json)", async () => {
    const r = await api(d, "POST", "/config/prune", admin(d), {
      id: "p-string",
      store: "store",
      schedule: "daily",
      "keep-daily": "7",
    });
    expect(r).toMatchObject({
      status: 400,
      text: "parameter verification failed - 'keep-daily': Expected integer value.",
    });
  });

  it("refuses keep counts below 1 (pbs-api-types src/datastore.rs PRUNE_SCHEMA_KEEP_*)", async () => {
    const r = await api(d, "POST", "/config/prune", admin(d), {
      id: "p-zero",
      store: "store",
      schedule: "daily",
      "keep-daily": 0,
    });
    expect(r.text).toBe(
      "parameter verification failed - 'keep-daily': value must have a minimum value of 1 (got 0)",
    );
  });

  it("refuses unknown properties and lists every problem at once", async () => {
    const r = await api(d, "POST", "/config/verify", admin(d), { id: "v", colour: "blue" });
    expect(r.status).toBe(400);
    expect(r.text).toContain("parameter verification failed:\n");
    expect(r.text).toContain("- 'colour': schema does not allow additional properties");
    expect(r.text).toContain("- 'id': value must be at least 3 characters long");
    expect(r.text).toContain("- 'store': property is missing and it is not optional");
  });

  it("refuses a schedule proxmox-time cannot parse (src/jobs.rs *_SCHEDULE_SCHEMA)", async () => {
    const r = await api(d, "POST", "/config/prune", admin(d), {
      id: "p-sched",
      store: "store",
      schedule: "every night",
    });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/^parameter verification failed - 'schedule': unable to parse calendar event/);
  });

  it("refuses datastore names outside DATASTORE_SCHEMA and job ids outside JOB_ID_SCHEMA", async () => {
    expect((await api(d, "POST", "/config/datastore", admin(d), { name: "ab", path: "/mnt/ab" })).text).toBe(
      "parameter verification failed - 'name': value must be at least 3 characters long",
    );
    expect(
      (await api(d, "POST", "/config/datastore", admin(d), { name: "-store", path: "/mnt/x" })).text,
    ).toBe("parameter verification failed - 'name': value does not match the regex pattern");
    expect(
      (await api(d, "POST", "/config/verify", admin(d), { id: "a".repeat(33), store: "store" })).text,
    ).toBe("parameter verification failed - 'id': value may only be 32 characters long");
  });

  it("refuses a content type other than JSON or form data", async () => {
    const r = await raw(
      { Authorization: `PBSAPIToken=${d.adminTokenId}:${d.adminSecret}`, "Content-Type": "text/plain" },
      "/config/prune",
      "POST",
      "id=x",
    );
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/^unsupported content type/);
  });

  it("parses form data as strings, with its own messages (parse_parameter_strings)", async () => {
    const r = await raw(
      {
        Authorization: `PBSAPIToken=${d.adminTokenId}:${d.adminSecret}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      "/config/verify",
      "POST",
      "id=vform&store=store&ignore-verified=maybe&colour=blue",
    );
    expect(r.text).toContain("- 'ignore-verified': Unable to parse boolean option.");
    expect(r.text).toContain("- 'colour': schema does not allow additional properties.");
  });
});

describe("datastores (src/api2/config/datastore.rs)", () => {
  it("creates through a worker task, answers the UPID and refuses a second one with the same name", async () => {
    const r = await api(d, "POST", "/config/datastore", admin(d), {
      name: "store",
      path: "/mnt/datastore/store",
    });
    expect(r.status).toBe(200);
    const upid = r.json!.data as string;
    expect(upid).toMatch(
      /^UPID:pbs:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:create-datastore:store:root@pam!homelab:$/,
    );
    const s = await api(d, "GET", `/nodes/localhost/tasks/${encodeURIComponent(upid)}/status`, admin(d));
    expect(s.json!.data).toMatchObject({
      status: "stopped",
      exitstatus: "OK",
      type: "create-datastore",
      id: "store",
      user: "root@pam",
      tokenid: "homelab",
    });
    const again = await api(d, "POST", "/config/datastore", admin(d), { name: "store", path: "/mnt/other" });
    expect(again).toMatchObject({
      status: 400,
      text: "parameter verification failed - 'name': datastore 'store' already exists.",
    });
  });

  it("refuses a relative path, and fails the task for a nested one (ensure_not_nested)", async () => {
    expect((await api(d, "POST", "/config/datastore", admin(d), { name: "rel", path: "mnt/rel" })).text).toBe(
      "parameter verification failed - 'path': expected an absolute path, 'mnt/rel' is not",
    );
    const r = await api(d, "POST", "/config/datastore", admin(d), {
      name: "nested",
      path: "/mnt/datastore/store/sub",
    });
    const s = await api(
      d,
      "GET",
      `/nodes/localhost/tasks/${encodeURIComponent(r.json!.data as string)}/status`,
      admin(d),
    );
    expect((s.json!.data as { exitstatus: string }).exitstatus).toMatch(
      /nested datastores not allowed: 'store' already in/,
    );
    expect(d.state.datastores.has("nested")).toBe(false);
  });

  it("refuses to change the path (an updater(skip) field) and prune settings on update", async () => {
    expect((await api(d, "PUT", "/config/datastore/store", admin(d), { path: "/elsewhere" })).text).toBe(
      "parameter verification failed - 'path': schema does not allow additional properties",
    );
    expect((await api(d, "PUT", "/config/datastore/store", admin(d), { "keep-daily": 3 })).text).toBe(
      "parameter verification failed - 'keep-daily': datastore prune settings have been replaced by prune jobs",
    );
  });

  it("checks the S3 backend (pbs-api-types DatastoreBackendConfig::from_str, create_datastore)", async () => {
    expect(
      (
        await api(d, "POST", "/config/datastore", admin(d), {
          name: "fsb",
          path: "/mnt/fsb",
          backend: "type=filesystem,bucket=xyz",
        })
      ).text,
    ).toMatch(/additional option bucket, not allowed for backend type filesystem/);
    expect(
      (
        await api(d, "POST", "/config/datastore", admin(d), {
          name: "s3a",
          path: "/mnt/s3a",
          backend: "type=s3,bucket=homelab-backups",
        })
      ).text,
    ).toMatch(/missing option client, required for backend type s3/);
    expect(
      (
        await api(d, "POST", "/config/datastore", admin(d), {
          name: "s3b",
          path: "/mnt/s3b",
          backend: "type=s3,client=nothere,bucket=homelab-backups",
        })
      ).text,
    ).toBe("no 'nothere' in config");
    expect(
      (
        await api(d, "POST", "/config/datastore", admin(d), {
          name: "s3c",
          path: "/mnt/s3c",
          backend: "type=s3,client=cl1,bucket=Bad_Bucket",
        })
      ).text,
    ).toMatch(/Bucket name does not match the regex pattern/);
  });

  it("answers a missing object with 400 'no such …' (proxmox-section-config lookup_json)", async () => {
    expect(await api(d, "GET", "/config/datastore/absent", admin(d))).toMatchObject({
      status: 400,
      text: "no such datastore 'absent'",
    });
    expect(await api(d, "GET", "/config/prune/absent", admin(d))).toMatchObject({
      status: 400,
      text: "no such prune 'absent'",
    });
  });
});

describe("jobs (src/api2/config/{prune,verify,sync}.rs)", () => {
  it("refuses a duplicate job id", async () => {
    await api(d, "POST", "/config/prune", admin(d), {
      id: "dup",
      store: "store",
      schedule: "daily",
      "keep-last": 3,
    });
    expect(
      (await api(d, "POST", "/config/prune", admin(d), { id: "dup", store: "store", schedule: "daily" }))
        .text,
    ).toBe("parameter verification failed - 'id': job 'dup' already exists.");
  });

  it("refuses a local sync job whose source and target are the same", async () => {
    expect(
      (
        await api(d, "POST", "/config/sync", admin(d), {
          id: "self",
          store: "store",
          "remote-store": "store",
        })
      ).text,
    ).toBe("source and target datastore can't be the same");
  });

  it("refuses a stale digest (detect_modified_configuration_file)", async () => {
    expect(
      (await api(d, "PUT", "/config/prune/dup", admin(d), { comment: "x", digest: "0".repeat(64) })).text,
    ).toBe("detected modified configuration - file changed by other user? Try again.");
  });
});

describe("users, tokens and ACLs (src/api2/access/{user,acl}.rs)", () => {
  it("shows a token secret once and refuses a second token of the same name", async () => {
    await api(d, "POST", "/access/users", admin(d), { userid: "tok@pbs" });
    const t = await api(d, "POST", "/access/users/tok@pbs/token/one", admin(d), {});
    expect(t.json!.data).toEqual({ tokenid: "tok@pbs!one", value: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect((await api(d, "POST", "/access/users/tok@pbs/token/one", admin(d), {})).text).toBe(
      "token 'one' for user 'tok@pbs' already exists.",
    );
    const read = await api(d, "GET", "/access/users/tok@pbs/token/one", admin(d));
    expect(read.json!.data).toEqual({ tokenid: "tok@pbs!one" });
  });

  it("refuses an ACL for a token that does not exist, an unknown role, and an invalid path", async () => {
    expect(
      (
        await api(d, "PUT", "/access/acl", admin(d), {
          path: "/datastore/store",
          role: "DatastoreBackup",
          "auth-id": "tok@pbs!nope",
        })
      ).text,
    ).toBe("no such API token.");
    expect(
      (
        await api(d, "PUT", "/access/acl", admin(d), {
          path: "/datastore/store",
          role: "Backup",
          "auth-id": "tok@pbs!one",
        })
      ).text,
    ).toBe("parameter verification failed - 'role': value 'Backup' is not defined in the enumeration.");
    expect(
      (
        await api(d, "PUT", "/access/acl", admin(d), {
          path: "/storage/x",
          role: "Audit",
          "auth-id": "tok@pbs!one",
        })
      ).text,
    ).toBe("invalid acl path '/storage/x'.");
  });

  it("limits a token to what its user may do as well (lookup_privs_details)", async () => {
    const t = await api(d, "PUT", "/access/users/tok@pbs/token/one", admin(d), { regenerate: true });
    const secret = (t.json!.data as { secret: string }).secret;
    const tok = { id: "tok@pbs!one", secret };
    // The token alone has the role, the user not: no datastore is visible.
    await api(d, "PUT", "/access/acl", admin(d), {
      path: "/datastore/store",
      role: "DatastoreAudit",
      "auth-id": "tok@pbs!one",
    });
    expect((await api(d, "GET", "/admin/datastore", tok)).json!.data).toEqual([]);
    await api(d, "PUT", "/access/acl", admin(d), {
      path: "/datastore/store",
      role: "DatastoreAudit",
      "auth-id": "tok@pbs",
    });
    expect((await api(d, "GET", "/admin/datastore", tok)).json!.data).toEqual([
      expect.objectContaining({ store: "store" }),
    ]);
    // Router-level permission: 403; handler-level check_privs: 400 naming the privilege.
    expect(await api(d, "POST", "/access/users", tok, { userid: "x@pbs" })).toMatchObject({
      status: 403,
      text: "permission check failed",
    });
    expect(
      (await api(d, "POST", "/config/prune", tok, { id: "tok-prune", store: "store", schedule: "daily" }))
        .text,
    ).toBe("missing permissions 'Datastore.Modify' on '/datastore/store'");
  });
});

describe("notifications (proxmox-notify src/api/*.rs)", () => {
  it("never returns a gotify token and shares one namespace between endpoints and matchers", async () => {
    expect(
      (
        await api(d, "POST", "/config/notifications/endpoints/gotify", admin(d), {
          name: "g1",
          server: "https://g",
        })
      ).text,
    ).toBe("parameter verification failed - 'token': property is missing and it is not optional");
    await api(d, "POST", "/config/notifications/endpoints/gotify", admin(d), {
      name: "g1",
      server: "https://g",
      token: "tok-secret-1",
    });
    const r = await api(d, "GET", "/config/notifications/endpoints/gotify/g1", admin(d));
    expect(JSON.stringify(r.json)).not.toContain("tok-secret-1");
    expect(
      (await api(d, "POST", "/config/notifications/matchers", admin(d), { name: "g1", target: ["g1"] })).text,
    ).toBe("Cannot create 'g1', an entity with the same name already exists");
  });

  it("refuses a matcher naming an unknown endpoint (404) and deleting an endpoint in use", async () => {
    expect(
      await api(d, "POST", "/config/notifications/matchers", admin(d), { name: "m1", target: ["nope"] }),
    ).toMatchObject({
      status: 404,
      text: "endpoint 'nope' does not exist",
    });
    await api(d, "POST", "/config/notifications/matchers", admin(d), {
      name: "m1",
      target: ["g1"],
      "match-severity": ["error"],
    });
    expect((await api(d, "DELETE", "/config/notifications/endpoints/gotify/g1", admin(d))).text).toBe(
      "cannot delete 'g1', referenced by: m1",
    );
  });

  it("refuses an smtp or sendmail endpoint without a recipient", async () => {
    expect(
      (await api(d, "POST", "/config/notifications/endpoints/sendmail", admin(d), { name: "s1" })).text,
    ).toBe("must at least provide one recipient, either in mailto or in mailto-user");
  });
});
