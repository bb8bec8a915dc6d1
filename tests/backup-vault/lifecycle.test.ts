import fc from "fast-check";
import {
  STORAGE_CLASSES,
  validateLifecycle,
  type LifecycleConfiguration,
  type LifecycleRule,
  type TransitionStorageClass,
} from "../../model/s3-lifecycle";
import { vaultLifecycle, vaultLifecycleIssues, type VaultLifecycleInput } from "../../model/vault-lifecycle";
import { runs } from "../support/property";

/** The vault defaults from the reference stack file. */
const reference: VaultLifecycleInput = {
  archiveAfterDays: 30,
  archiveExpireDays: 400,
  noncurrentVersionExpireDays: 30,
  abortMultipartDays: 7,
  objectLockDays: 0,
  transitionMinimumObjectSize: "all_storage_classes_128K",
};

const hygiene: LifecycleRule = {
  id: "hygiene",
  status: "Enabled",
  filter: { prefix: "" },
  expiration: { expiredObjectDeleteMarker: true },
  abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
  noncurrentVersionExpiration: { noncurrentDays: 30 },
};
/** One rule under test plus a hygiene rule, so only the rule's own findings show up. */
const withRule = (rule: Partial<LifecycleRule>): LifecycleConfiguration => ({
  transitionDefaultMinimumObjectSize: "all_storage_classes_128K",
  rules: [{ id: "r", status: "Enabled", filter: { prefix: "archive/" }, ...rule }, hygiene],
});
const errorsOf = (c: LifecycleConfiguration) => validateLifecycle(c).errors;
const codes = (c: LifecycleConfiguration) => errorsOf(c).map((e) => e.code);

describe("lifecycle validator: the vault's own rules", () => {
  it("accepts the reference vault configuration with no errors and no warnings", () => {
    const r = validateLifecycle(vaultLifecycle(reference), { averageObjectBytes: 256 * 2 ** 20 });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it("keeps hot/ in Standard and sends only archive/ to Deep Archive, with explicit min object size", () => {
    const c = vaultLifecycle(reference);
    const hot = c.rules.find((r) => r.filter?.prefix === "hot/")!;
    expect(hot.transitions ?? []).toEqual([]);
    expect(hot.noncurrentVersionExpiration).toEqual({ noncurrentDays: 30 });
    const archive = c.rules.find((r) => r.filter?.prefix === "archive/")!;
    expect(archive.transitions).toEqual([{ days: 30, storageClass: "DEEP_ARCHIVE" }]);
    expect(archive.expiration).toEqual({ days: 400 });
    expect(c.transitionDefaultMinimumObjectSize).toBe("all_storage_classes_128K");
    expect(c.rules.some((r) => r.expiration?.expiredObjectDeleteMarker === true)).toBe(true);
    expect(c.rules.some((r) => r.abortIncompleteMultipartUpload?.daysAfterInitiation === 7)).toBe(true);
  });
});

describe("lifecycle validator: every rule S3 enforces has a rejecting case", () => {
  const cases: [string, LifecycleConfiguration, string, RegExp][] = [
    [
      "expiration not after the transition",
      withRule({ transitions: [{ days: 30, storageClass: "DEEP_ARCHIVE" }], expiration: { days: 30 } }),
      "expiration-before-transition",
      /'Days' in the Expiration action for filter 'archive\/' must be greater than 'Days' in the Transition action/,
    ],
    [
      "Standard-IA before 30 days",
      withRule({ transitions: [{ days: 10, storageClass: "STANDARD_IA" }] }),
      "ia-min-days",
      /greater than or equal to 30 for storageClass 'STANDARD_IA'/,
    ],
    [
      "One Zone-IA noncurrent transition before 30 days",
      withRule({ noncurrentVersionTransitions: [{ noncurrentDays: 5, storageClass: "ONEZONE_IA" }] }),
      "ia-min-days",
      /'NoncurrentDays'.*ONEZONE_IA/,
    ],
    [
      "archive less than 30 days after IA in one rule",
      withRule({
        transitions: [
          { days: 30, storageClass: "STANDARD_IA" },
          { days: 45, storageClass: "GLACIER" },
        ],
      }),
      "archive-after-ia",
      /must be 30 days more than/,
    ],
    [
      "a transition against the waterfall (Glacier to Standard-IA)",
      withRule({
        transitions: [
          { days: 0, storageClass: "GLACIER" },
          { days: 60, storageClass: "STANDARD_IA" },
        ],
      }),
      "transition-order",
      /from 'GLACIER' to 'STANDARD_IA' is not supported/,
    ],
    [
      "a transition out of Deep Archive",
      withRule({
        transitions: [
          { days: 0, storageClass: "DEEP_ARCHIVE" },
          { days: 200, storageClass: "GLACIER" },
        ],
      }),
      "transition-order",
      /from 'DEEP_ARCHIVE'/,
    ],
    [
      "two transitions to the same class",
      withRule({
        transitions: [
          { days: 0, storageClass: "GLACIER" },
          { days: 100, storageClass: "GLACIER" },
        ],
      }),
      "duplicate-storage-class",
      /'StorageClass' must be different/,
    ],
    [
      "a zero expiration",
      withRule({ expiration: { days: 0 } }),
      "days-positive",
      /'Days' for Expiration action must be a positive integer/,
    ],
    [
      "fractional noncurrent days",
      withRule({ noncurrentVersionExpiration: { noncurrentDays: 1.5 } }),
      "days-positive",
      /'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer/,
    ],
    [
      "a negative transition",
      withRule({ transitions: [{ days: -1, storageClass: "GLACIER" }] }),
      "days-integer",
      /non-negative integer/,
    ],
    [
      "Date and Days mixed across actions",
      withRule({ transitions: [{ date: "2027-01-01", storageClass: "GLACIER" }], expiration: { days: 400 } }),
      "mixed-date-days",
      /mixed 'Date' and 'Days'/,
    ],
    [
      "Date and Days in one action",
      withRule({ expiration: { days: 10, date: "2027-01-01" } }),
      "date-and-days",
      /cannot specify both 'Date' and 'Days'/,
    ],
    [
      "a Date that is not midnight UTC",
      withRule({ expiration: { date: "2027-01-01T12:00:00Z" } }),
      "date-midnight",
      /'Date' must be at midnight GMT/,
    ],
    [
      "a rule without any action",
      withRule({}),
      "no-action",
      /At least one action needs to be specified in a rule/,
    ],
    [
      "more than 1000 rules",
      {
        rules: Array.from({ length: 1001 }, (_, i) => ({
          id: `r${i}`,
          status: "Enabled" as const,
          filter: { prefix: `p${i}/` },
          expiration: { days: 1 },
        })),
      },
      "too-many-rules",
      /must not exceed the allowed limit of 1000 rules/,
    ],
    ["duplicate rule IDs", { rules: [hygiene, { ...hygiene }] }, "duplicate-id", /Rule ID must be unique/],
    [
      "a rule ID over 255 characters",
      { rules: [{ ...hygiene, id: "x".repeat(256) }] },
      "id-too-long",
      /ID length should not exceed allowed limit of 255/,
    ],
    [
      "two filter predicates without And",
      withRule({ filter: { prefix: "archive/", tag: { key: "k", value: "v" } }, expiration: { days: 10 } }),
      "filter-predicates",
      /only one predicate/,
    ],
    [
      "NewerNoncurrentVersions over 100",
      withRule({ noncurrentVersionExpiration: { noncurrentDays: 30, newerNoncurrentVersions: 101 } }),
      "newer-noncurrent-versions",
      /from 1 to 100/,
    ],
    [
      "NewerNoncurrentVersions of 0",
      withRule({ noncurrentVersionExpiration: { noncurrentDays: 30, newerNoncurrentVersions: 0 } }),
      "newer-noncurrent-versions",
      /from 1 to 100/,
    ],
    [
      "ExpiredObjectDeleteMarker with Days",
      withRule({ expiration: { days: 10, expiredObjectDeleteMarker: true } }),
      "eodm-with-days",
      /ExpiredObjectDeleteMarker cannot be specified with Days or Date/,
    ],
    [
      "ExpiredObjectDeleteMarker with a tag filter",
      withRule({
        filter: { tag: { key: "k", value: "v" } },
        expiration: { expiredObjectDeleteMarker: true },
      }),
      "eodm-filter",
      /tag or object size filter/,
    ],
    [
      "AbortIncompleteMultipartUpload with a size filter",
      withRule({
        filter: { objectSizeGreaterThan: 1000 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      }),
      "abort-filter",
      /AbortIncompleteMultipartUpload cannot be specified with a tag or object size filter/,
    ],
    [
      "noncurrent expiration not after the noncurrent transition",
      withRule({
        noncurrentVersionTransitions: [{ noncurrentDays: 30, storageClass: "GLACIER" }],
        noncurrentVersionExpiration: { noncurrentDays: 30 },
      }),
      "expiration-before-transition",
      /'NoncurrentDays' in the NoncurrentVersionExpiration action for filter 'archive\/' must be greater/,
    ],
    [
      "ObjectSizeGreaterThan not below ObjectSizeLessThan",
      withRule({
        filter: { and: { prefix: "archive/", objectSizeGreaterThan: 500, objectSizeLessThan: 100 } },
        expiration: { days: 10 },
      }),
      "filter-size",
      /must be less than 'ObjectSizeLessThan'/,
    ],
  ];

  it.each(cases)("rejects %s", (_name, config, code, message) => {
    const errors = errorsOf(config);
    expect(errors.map((e) => e.code)).toContain(code);
    expect(errors.find((e) => e.code === code)!.message).toMatch(message);
  });

  it("accepts the valid neighbours of the rejected cases", () => {
    expect(codes(withRule({ transitions: [{ days: 30, storageClass: "STANDARD_IA" }] }))).toEqual([]);
    expect(
      codes(
        withRule({
          transitions: [
            { days: 30, storageClass: "STANDARD_IA" },
            { days: 60, storageClass: "GLACIER" },
            { days: 150, storageClass: "DEEP_ARCHIVE" },
          ],
          expiration: { days: 400 },
        }),
      ),
    ).toEqual([]);
    expect(
      codes(withRule({ transitions: [{ days: 0, storageClass: "DEEP_ARCHIVE" }], expiration: { days: 1 } })),
    ).toEqual([]);
    expect(codes(withRule({ expiration: { date: "2027-01-01" } }))).toEqual([]);
    expect(codes(withRule({ expiration: { date: "2027-01-01T00:00:00.000Z" } }))).toEqual([]);
    expect(
      codes(withRule({ noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 100 } })),
    ).toEqual([]);
    expect(
      codes(
        withRule({
          filter: { and: { prefix: "archive/", objectSizeGreaterThan: 131072 } },
          expiration: { days: 10 },
        }),
      ),
    ).toEqual([]);
  });
});

describe("lifecycle validator: costly or unsafe configurations warn", () => {
  const warnings = (c: LifecycleConfiguration, ctx = {}) =>
    validateLifecycle(c, ctx).warnings.map((w) => w.code);

  it("warns on early deletion from Deep Archive and Glacier", () => {
    expect(
      warnings(
        withRule({ transitions: [{ days: 30, storageClass: "DEEP_ARCHIVE" }], expiration: { days: 120 } }),
      ),
    ).toContain("early-deletion");
    expect(
      warnings(withRule({ transitions: [{ days: 30, storageClass: "GLACIER" }], expiration: { days: 100 } })),
    ).toContain("early-deletion");
    expect(
      warnings(
        withRule({ transitions: [{ days: 30, storageClass: "DEEP_ARCHIVE" }], expiration: { days: 210 } }),
      ),
    ).not.toContain("early-deletion");
  });

  it("warns when an archive transition covers a live repository prefix", () => {
    for (const prefix of ["hot/", "", "arch", "hot/borg/"])
      expect(
        warnings(withRule({ filter: { prefix }, transitions: [{ days: 30, storageClass: "DEEP_ARCHIVE" }] })),
      ).toContain("archive-live-prefix");
    expect(
      warnings(
        withRule({
          filter: { prefix: "archive/borg/" },
          transitions: [{ days: 30, storageClass: "DEEP_ARCHIVE" }],
        }),
      ),
    ).not.toContain("archive-live-prefix");
  });

  it("warns on small objects to archive classes and varies_by_storage_class without a size filter", () => {
    const c = withRule({ transitions: [{ days: 0, storageClass: "DEEP_ARCHIVE" }] });
    expect(warnings(c, { averageObjectBytes: 64 * 1024 })).toContain("small-objects-archive");
    expect(warnings(c, { averageObjectBytes: 256 * 2 ** 20 })).not.toContain("small-objects-archive");
    expect(warnings({ ...c, transitionDefaultMinimumObjectSize: "varies_by_storage_class" })).toContain(
      "varies-without-size-filter",
    );
  });

  it("warns when noncurrent expiration, delete-marker cleanup or multipart abort is missing", () => {
    const bare: LifecycleConfiguration = {
      rules: [{ id: "a", status: "Enabled", filter: { prefix: "archive/" }, expiration: { days: 10 } }],
    };
    expect(warnings(bare)).toEqual(
      expect.arrayContaining(["no-noncurrent-expiration", "no-delete-marker-cleanup", "no-multipart-abort"]),
    );
  });

  it("warns on ONEZONE_IA holding the only copy, Glacier IR then archive within 90 days, and a leading slash", () => {
    expect(warnings(withRule({ transitions: [{ days: 30, storageClass: "ONEZONE_IA" }] }))).toContain(
      "onezone-only-copy",
    );
    expect(
      warnings(withRule({ transitions: [{ days: 30, storageClass: "ONEZONE_IA" }] }), {
        onlyOffsiteCopy: false,
      }),
    ).not.toContain("onezone-only-copy");
    expect(
      warnings(
        withRule({
          transitions: [
            { days: 0, storageClass: "GLACIER_IR" },
            { days: 60, storageClass: "DEEP_ARCHIVE" },
          ],
        }),
      ),
    ).toContain("glacier-ir-then-archive");
    expect(warnings(withRule({ filter: { prefix: "/archive/" }, expiration: { days: 10 } }))).toContain(
      "leading-slash",
    );
  });

  it("warns when archiving inside the instant-restore window", () => {
    expect(
      warnings(withRule({ transitions: [{ days: 7, storageClass: "DEEP_ARCHIVE" }] }), {
        instantRestoreDays: 30,
      }),
    ).toContain("archive-before-restore-window");
  });
});

describe("vault config issues name the field to fix", () => {
  it("maps expiration-before-transition to archiveExpireDays with a fix", () => {
    const issues = vaultLifecycleIssues({ ...reference, archiveExpireDays: 20 }).filter(
      (i) => i.severity === "error",
    );
    expect(issues).toEqual([
      expect.objectContaining({
        field: "archiveExpireDays",
        message: expect.stringMatching(/set archiveExpireDays above 30/),
      }),
    ]);
  });

  it("maps an IA step before 30 days to archiveInfrequentAccessAfterDays", () => {
    const issues = vaultLifecycleIssues({
      ...reference,
      archiveInfrequentAccessAfterDays: 10,
      archiveAfterDays: 90,
    });
    expect(issues.filter((i) => i.severity === "error").map((i) => i.field)).toEqual([
      "archiveInfrequentAccessAfterDays",
    ]);
  });

  it("warns when exports expire before their object lock ends", () => {
    const issues = vaultLifecycleIssues({ ...reference, objectLockDays: 730 });
    expect(issues).toContainEqual(
      expect.objectContaining({ severity: "warning", code: "expiry-before-lock" }),
    );
  });
});

describe("lifecycle validator properties", () => {
  const cls = fc.constantFrom<TransitionStorageClass>(...STORAGE_CLASSES);
  const rule = fc.record({
    transitions: fc.array(fc.record({ days: fc.integer({ min: -5, max: 500 }), storageClass: cls }), {
      maxLength: 4,
    }),
    expiration: fc.option(fc.integer({ min: -5, max: 800 }), { nil: undefined }),
  });

  it("never throws, and a config it accepts has ordered, distinct, in-range transitions before expiry", () => {
    fc.assert(
      fc.property(rule, ({ transitions, expiration }) => {
        const r = validateLifecycle(
          withRule({
            transitions,
            ...(expiration !== undefined ? { expiration: { days: expiration } } : {}),
          }),
        );
        if (r.errors.length > 0) return;
        const sorted = [...transitions].sort((a, b) => a.days - b.days);
        expect(new Set(sorted.map((t) => t.storageClass)).size).toBe(sorted.length);
        for (const t of sorted) {
          expect(t.days).toBeGreaterThanOrEqual(0);
          if (t.storageClass === "STANDARD_IA" || t.storageClass === "ONEZONE_IA")
            expect(t.days).toBeGreaterThanOrEqual(30);
          if (expiration !== undefined) expect(expiration).toBeGreaterThan(t.days);
        }
      }),
      runs(100),
    );
  });

  it("the vault builder's rules are accepted exactly when expiry follows the archive step", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
        fc.integer({ min: 1, max: 365 }),
        fc.integer({ min: 1, max: 30 }),
        (after, expire, noncurrent, abort) => {
          const v = {
            ...reference,
            archiveAfterDays: after,
            archiveExpireDays: expire,
            noncurrentVersionExpireDays: noncurrent,
            abortMultipartDays: abort,
          };
          const errors = validateLifecycle(vaultLifecycle(v)).errors;
          expect(errors.length === 0).toBe(expire === undefined || expire > after);
        },
      ),
      runs(100),
    );
  });
});
