/** Pure parts: schedules, renderer invariants, manifests, drill arguments (systemd agreeing on the
 * schedules is tests/model/schedule.integration.test.ts). */
import { renderBorg, type BorgRenderInput } from "../../analysis/backup/borg";
import { datasetSlug } from "../../analysis/backup/borg-paths";
import { schedulePeriodSeconds, ScheduleError } from "../../model/schedule-period";
import { compareManifests, formatManifest, parseManifest } from "../../analysis/backup/manifest";
import { parseDrillArgs, UsageError } from "../../tools/restore-drill/args";

const H = 3600;
const D = 86_400;

describe("OnCalendar periods", () => {
  it.each([
    ["daily", D],
    ["*-*-* 03:00:00", D],
    ["*-*-* 03:00", D],
    ["Sun *-*-* 05:00:00", 7 * D],
    ["Mon,Thu *-*-* 05:00", 4 * D],
    ["Mon..Fri *-*-* 01:00", 3 * D],
    ["*-*-01 07:00:00", 31 * D],
    ["*-*-1,15 07:00", 17 * D],
    ["*-*-* 00/6:00", 6 * H],
    ["*-*-* 02,14:30", 12 * H],
    ["weekly", 7 * D],
  ])("%s -> longest gap", (expr, seconds) => {
    expect(schedulePeriodSeconds(expr)).toBe(seconds);
  });

  it.each(["*-02-* 03:00", "Sun *-*-01 03:00", "tomorrow", "*-*-* 25:00", "Sun,Funday *-*-* 01:00"])(
    "rejects %s instead of guessing",
    (expr) => {
      expect(() => schedulePeriodSeconds(expr)).toThrow(ScheduleError);
    },
  );
});

const input: BorgRenderInput = {
  pool: "tank",
  classes: [
    {
      name: "critical",
      schedule: "*-*-* 03:00:00",
      verifySchedule: "Sun *-*-* 05:00:00",
      keep: { daily: 14, weekly: 8, monthly: 12 },
      exportToArchive: true,
    },
    {
      name: "standard",
      schedule: "*-*-* 04:00:00",
      verifySchedule: "Sun *-*-* 06:00:00",
      keep: { daily: 7, weekly: 4, monthly: 6 },
      exportToArchive: false,
    },
  ],
  datasets: [
    { name: "tank/apps/immich", backupClass: "critical", node: "storage" },
    { name: "tank/apps/immich-library", backupClass: "critical", node: "storage" },
    { name: "fast/apps/authelia", backupClass: "standard", node: "network" },
  ],
  sink: { kind: "s3", bucket: "homelab-backups", region: "eu-central-1" },
  networkNode: { address: "10.0.10.1", port: 22, user: "deploy" },
};

describe("renderBorg", () => {
  const r = renderBorg(input);
  const file = (suffix: string) => r.files.find((f) => f.path.endsWith(suffix))!.content;

  it("puts one repository per class under /<pool>/backup/borg", () => {
    expect(r.repositories.map((x) => x.path)).toEqual([
      "/tank/backup/borg/critical",
      "/tank/backup/borg/standard",
    ]);
  });

  it("renders timers from the class schedule with Persistent and RandomizedDelaySec", () => {
    const t = file("homelab-borg-backup-tank-apps-immich-library.timer");
    expect(t).toMatch(/^OnCalendar=\*-\*-\* 03:00:00$/m);
    expect(t).toMatch(/^Persistent=true$/m);
    expect(t).toMatch(/^RandomizedDelaySec=\S+$/m);
    expect(file("homelab-borg-verify-standard.timer")).toMatch(/^OnCalendar=Sun \*-\*-\* 06:00:00$/m);
    expect(r.timers).toContain("homelab-borg-export-critical.timer");
    expect(r.timers).not.toContain("homelab-borg-export-standard.timer");
  });

  it("delivers the passphrase only through LoadCredential, never in units or scripts", () => {
    const svc = file("homelab-borg-backup-tank-apps-immich.service");
    expect(svc).toMatch(
      /^LoadCredential=borg-passphrase:\/etc\/homelab-backup\/credentials\/critical\.passphrase$/m,
    );
    for (const f of r.files) {
      expect(f.content).not.toMatch(/^\s*(export\s+)?BORG_PASSPHRASE=/m);
      expect(f.content).not.toMatch(/--passphrase[= ](?!file|fd)/);
      expect(f.content).not.toMatch(/^Environment=.*PASS/m);
    }
  });

  it("keeps archive globs from matching a dataset whose name extends another's", () => {
    const a = datasetSlug(input.datasets[0]!);
    const b = datasetSlug(input.datasets[1]!);
    expect(b.startsWith(a)).toBe(true);
    expect(`${b}@2024-01-01T00:00:00`.startsWith(`${a}@`)).toBe(false);
    expect(file("backup-tank-apps-immich.sh")).toContain('--glob-archives "$HB_SLUG@*"');
  });

  it("prunes with the class keep and compacts after", () => {
    const s = file("backup-tank-apps-immich.sh");
    expect(s).toMatch(/^HB_KEEP_DAILY='14'\nHB_KEEP_WEEKLY='8'\nHB_KEEP_MONTHLY='12'$/m);
    expect(s).toContain(
      '--keep-daily "$HB_KEEP_DAILY" --keep-weekly "$HB_KEEP_WEEKLY" --keep-monthly "$HB_KEEP_MONTHLY"',
    );
    expect(s.indexOf("borg compact")).toBeGreaterThan(s.indexOf("borg prune"));
  });

  it("pulls network-node datasets and backs up the local mirror", () => {
    const s = file("backup-net-fast-apps-authelia.sh");
    expect(s).toMatch(
      /^HB_PULL_USER='deploy'\nHB_PULL_HOST='10\.0\.10\.1'\nHB_PULL_PORT='22'\nHB_PULL_REMOTE='fast\/apps\/authelia'$/m,
    );
    expect(s).toContain(
      'hb_pull "$HB_PULL_USER" "$HB_PULL_HOST" "$HB_PULL_PORT" "$HB_PULL_REMOTE" "$HB_LOCAL"',
    );
    // A dataset of the storage node itself is not pulled.
    expect(file("backup-tank-apps-immich.sh")).toMatch(/^HB_PULL_HOST=''$/m);
    expect(s).toMatch(/HB_LOCAL='tank\/backup\/pull\/net-fast-apps-authelia'/);
    expect(file("homelab-borg-backup-net-fast-apps-authelia.service")).toMatch(
      /LoadCredential=pull-ssh-key:/,
    );
  });

  it("exports only under archive/ and syncs the live repository only under hot/", () => {
    expect(file("export-critical.sh")).toMatch(/key="archive\/borg\/\$HB_CLASS\//);
    expect(file("sync-critical.sh")).toMatch(/"hot\/borg\/\$HB_CLASS"/);
  });

  it("expects every task per dataset, with the schedule's period", () => {
    const e = r.expectations.filter((x) => x.dataset === "tank/apps/immich");
    expect(e.map((x) => x.task).sort()).toEqual(
      ["backup", "export", "restore_drill", "sync", "verify", "verify_data"].sort(),
    );
    expect(e.find((x) => x.task === "backup")).toMatchObject({ periodSeconds: D, graceSeconds: 6 * H });
    expect(r.expectations.some((x) => x.dataset === "fast/apps/authelia" && x.task === "export")).toBe(false);
  });

  it("rejects colliding unit names and unreadable schedules", () => {
    expect(() =>
      renderBorg({
        ...input,
        datasets: [
          { name: "tank/a-b", backupClass: "critical", node: "storage" },
          { name: "tank/a/b", backupClass: "critical", node: "storage" },
        ],
      }),
    ).toThrow(/same unit name/);
    expect(() =>
      renderBorg({ ...input, classes: [{ ...input.classes[0]!, schedule: "every night" }], datasets: [] }),
    ).toThrow(/OnCalendar "every night"/);
  });
});

describe("manifests", () => {
  const h = (c: string) => c.repeat(64);
  it("reads sha256sum output, including escaped names", () => {
    const text = `${h("a")}  ./x/y.bin\n\\${h("b")}  ./new\\nline\\\\x\n${h("c")} *./bin mode\n`;
    const m = parseManifest(text);
    expect([...m.entries()]).toEqual([
      ["x/y.bin", h("a")],
      ["new\nline\\x", h("b")],
      ["bin mode", h("c")],
    ]);
    expect(parseManifest(formatManifest([...m].map(([path, sha256]) => ({ path, sha256 }))))).toEqual(m);
  });

  it("rejects malformed lines", () => {
    expect(() => parseManifest("nothex  ./a\n")).toThrow(/line 1/);
  });

  it("reports changed, missing and unexpected files", () => {
    const expected = new Map([
      ["a", h("1")],
      ["b", h("2")],
      ["c", h("3")],
    ]);
    const actual = new Map([
      ["a", h("1")],
      ["b", h("9")],
      ["d", h("4")],
    ]);
    expect(compareManifests(expected, actual)).toEqual({
      ok: false,
      changed: ["b"],
      missing: ["c"],
      extra: ["d"],
      matched: 1,
    });
    expect(compareManifests(expected, new Map(expected)).ok).toBe(true);
  });
});

describe("restore-drill arguments", () => {
  it("parses the documented form", () => {
    expect(parseDrillArgs(["tank/apps/immich", "--repo", "/r", "--scratch", "/s"])).toMatchObject({
      dataset: "tank/apps/immich",
      repo: "/r",
      scratch: "/s",
      keep: false,
    });
  });
  it.each([
    [[], /missing <dataset>/],
    [["a", "b"], /one dataset/],
    [["immich"], /not a dataset name/],
    [["tank/x", "--passphrase", "hunter2"], /refused/],
    [["tank/x", "--bogus"], /Unknown option/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseDrillArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseDrillArgs(argv as string[])).toThrow(message);
  });
});
