/** The pure parts of offsite history: the S3 sink's rendering, drill arguments and version selection. */
import { renderBorg, type BorgSink } from "../../analysis/backup/borg";
import { parseDrillArgs, UsageError } from "../../tools/restore-drill/args";
import {
  latestExport,
  lockProblem,
  parseFileList,
  parseVersionListing,
  restoreState,
  versionAsOf,
  VersionError,
  type ObjectVersion,
} from "../../tools/restore-drill/versions";

const common = (sink: BorgSink) =>
  renderBorg({
    pool: "tank",
    classes: [
      {
        name: "critical",
        schedule: "daily",
        verifySchedule: "weekly",
        keep: { daily: 7, weekly: 4, monthly: 6 },
        exportToArchive: true,
      },
    ],
    datasets: [{ name: "tank/a", backupClass: "critical", node: "storage" }],
    sink,
  }).files.find((f) => f.path.endsWith("/common.sh"))!.content;

describe("the S3 sink of the Borg jobs", () => {
  it("locks every export for the vault's days + 1 in its mode, and says so", () => {
    const text = common({
      kind: "s3",
      bucket: "v",
      region: "eu-central-1",
      archiveLock: { mode: "COMPLIANCE", days: 365 },
    });
    expect(text).toContain("HB_LOCK_MODE='COMPLIANCE'\nHB_LOCK_DAYS='365'\nHB_LOCK_MARGIN_DAYS='1'\n");
    expect(text).toContain(
      'until=$(date -u -d "+$((HB_LOCK_DAYS + HB_LOCK_MARGIN_DAYS)) days" +%Y-%m-%dT%H:%M:%SZ)',
    );
    expect(text).toContain(
      'hb_aws s3api put-object-retention --bucket "$HB_BUCKET" --key "$key" \\\n      --retention "Mode=$HB_LOCK_MODE,RetainUntilDate=$until"',
    );
    // Every aws call goes through hb_aws; without an endpoint it is plain `aws`.
    expect(text).toMatch(/^HB_ENDPOINT_URL=''$/m);
    expect(text.match(/\baws /g)).toEqual(["aws ", "aws "]);
    expect(text).toContain('then aws --endpoint-url "$HB_ENDPOINT_URL" "$@"; else aws "$@"; fi');
  });

  it("says an export is not locked when the vault has no Object Lock, and a directory sink has none", () => {
    const unlocked = common({ kind: "s3", bucket: "v", region: "eu-central-1" });
    expect(unlocked).toMatch(/^HB_LOCK_MODE=''$/m);
    expect(unlocked).toContain(
      'if [ -z "$HB_LOCK_MODE" ]; then\n  hb_sink_lock() { echo "export: $1 is not locked (the vault has no Object Lock)"; }',
    );
    expect(common({ kind: "dir", path: "/mnt/vault" })).toContain("hb_sink_lock() { :; }");
  });

  it("talks to another endpoint when given one, quoted", () => {
    expect(
      common({ kind: "s3", bucket: "v", region: "eu-central-1", endpointUrl: "http://127.0.0.1:9000" }),
    ).toMatch(/^HB_ENDPOINT_URL='http:\/\/127\.0\.0\.1:9000'$/m);
  });
});

describe("offsite drill arguments", () => {
  it("parses the documented offsite form", () => {
    expect(
      parseDrillArgs([
        "tank/apps/immich",
        "--offsite",
        "--as-of",
        "2026-05-01T03:00:00Z",
        "--source",
        "archive",
        "--class",
        "critical",
        "--bucket",
        "homelab-backups",
        "--endpoint-url",
        "http://127.0.0.1:9000",
        "--min-lock-days",
        "0",
      ]),
    ).toMatchObject({
      dataset: "tank/apps/immich",
      class: "critical",
      offsite: {
        asOf: Date.parse("2026-05-01T03:00:00Z"),
        sources: ["archive"],
        bucket: "homelab-backups",
        endpointUrl: "http://127.0.0.1:9000",
        restoreTier: "Bulk",
        restoreDays: 3,
        minLockDays: 0,
      },
    });
    expect(parseDrillArgs(["tank/x", "--offsite"]).offsite!.sources).toEqual(["hot", "archive"]);
  });

  it.each([
    [["tank/x", "--as-of", "2026-05-01T03:00:00Z"], /--as-of only applies with --offsite/],
    [["tank/x", "--offsite", "--repo", "/r"], /exclude each other/],
    [["tank/x", "--offsite", "--metrics-dir", "/m"], /does not apply to --offsite/],
    [["tank/x", "--offsite", "--as-of", "2026-05-01 03:00"], /ISO time with a zone/],
    [["tank/x", "--offsite", "--source", "cold"], /hot, archive or both/],
    [["tank/x", "--offsite", "--restore-tier", "Fast"], /Bulk, Standard or Expedited/],
    [["tank/x", "--offsite", "--bucket", "Not_A_Bucket"], /not an S3 bucket name/],
    [["tank/x", "--offsite", "--endpoint-url", "file:///etc"], /not an http\(s\) URL/],
    [["tank/x", "--offsite", "--restore-days", "0"], /integer >= 1/],
    [["tank/x", "--offsite", "--class", "Crit ical"], /not a backup class/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseDrillArgs(argv)).toThrow(UsageError);
    expect(() => parseDrillArgs(argv)).toThrow(message);
  });
});

const v = (key: string, at: string, extra: Partial<ObjectVersion> = {}): ObjectVersion => ({
  key,
  versionId: `${key}@${at}`,
  lastModified: Date.parse(at),
  isLatest: false,
  deleteMarker: false,
  ...extra,
});

describe("offsite version selection", () => {
  it("reads the CLI's list-object-versions JSON, versions and delete markers", () => {
    const out = parseVersionListing(
      JSON.stringify({
        Versions: [
          {
            Key: "a",
            VersionId: "1",
            LastModified: "2026-01-01T00:00:00+00:00",
            IsLatest: true,
            StorageClass: "STANDARD",
            Size: 3,
          },
        ],
        DeleteMarkers: [
          { Key: "b", VersionId: "2", LastModified: "2026-01-02T00:00:00.000Z", IsLatest: true },
        ],
      }),
    );
    expect(out).toEqual([
      {
        key: "a",
        versionId: "1",
        lastModified: Date.parse("2026-01-01T00:00:00Z"),
        isLatest: true,
        deleteMarker: false,
        storageClass: "STANDARD",
        size: 3,
      },
      {
        key: "b",
        versionId: "2",
        lastModified: Date.parse("2026-01-02T00:00:00Z"),
        isLatest: true,
        deleteMarker: true,
      },
    ]);
    expect(parseVersionListing("")).toEqual([]);
    expect(() => parseVersionListing(JSON.stringify({ Versions: [{ Key: "a" }] }))).toThrow(VersionError);
  });

  it("picks, for an instant, the newest version written at or before it; none before the first or after a delete", () => {
    const all = [
      v("k", "2026-01-01T00:00:00Z"),
      v("k", "2026-01-03T00:00:00Z"),
      v("k", "2026-01-05T00:00:00Z", { deleteMarker: true }),
      v("other", "2026-01-02T00:00:00Z"),
    ];
    expect(versionAsOf(all, "k", Date.parse("2026-01-02T00:00:00Z"))!.versionId).toBe(
      "k@2026-01-01T00:00:00Z",
    );
    expect(versionAsOf(all, "k", Date.parse("2026-01-03T00:00:00Z"))!.versionId).toBe(
      "k@2026-01-03T00:00:00Z",
    );
    expect(versionAsOf(all, "k", Date.parse("2025-12-31T00:00:00Z"))).toBeUndefined();
    expect(versionAsOf(all, "k", Date.parse("2026-02-01T00:00:00Z"))).toBeUndefined();
    expect(
      latestExport(
        [
          v("x/a.tar.gpg", "2026-01-01T00:00:00Z"),
          v("x/b.tar.gpg", "2026-02-01T00:00:00Z"),
          v("x/c.txt", "2026-03-01T00:00:00Z"),
        ],
        Date.parse("2026-02-15T00:00:00Z"),
      )!.key,
    ).toBe("x/b.tar.gpg");
  });

  it("reads the hot/ file list and refuses paths that would leave the restore directory", () => {
    expect(parseFileList("./README\n./config\n./data/0/1\n")).toEqual(["README", "config", "data/0/1"]);
    for (const bad of ["./../etc/passwd\n", "/etc/passwd\n", "./data//1\n", "./a\u0000b\n", "\n"])
      expect(() => parseFileList(bad)).toThrow(VersionError);
  });

  it("checks an export's lock against the vault's promise, and reads S3's restore header", () => {
    const e = v("x.tar.gpg", "2026-01-01T00:00:00Z");
    expect(lockProblem(e, { mode: "GOVERNANCE", retainUntil: "2026-07-01T00:00:00Z" }, 180)).toBeUndefined();
    expect(lockProblem(e, {}, 180)).toMatch(/is not under Object Lock/);
    expect(lockProblem(e, { mode: "GOVERNANCE", retainUntil: "2026-02-01T00:00:00Z" }, 180)).toMatch(
      /locked for 31\.0 days after its upload, less than 180/,
    );
    expect(lockProblem(e, {}, 0)).toBeUndefined();
    expect(restoreState(undefined)).toBe("none");
    expect(restoreState('ongoing-request="true"')).toBe("running");
    expect(restoreState('ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"')).toBe("done");
  });
});
