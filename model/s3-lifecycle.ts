/**
 * A typed model of S3's LifecycleConfiguration and a validator over it (pure: no Pulumi, no AWS calls).
 *
 * Field names follow the @pulumi/aws v7 `s3.BucketLifecycleConfiguration` inputs, so a configuration
 * built here is passed to the resource unchanged and the validator sees exactly what S3 will receive.
 *
 * Errors are the configurations S3 itself rejects at PutBucketLifecycleConfiguration (so we fail at
 * plan time instead of half-way through `pulumi up`); warnings are valid but costly or unsafe ones.
 * Sources: shared/reference/s3-lifecycle.md and the S3 API reference (Transition, LifecycleRule).
 */

export const STORAGE_CLASSES = [
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "GLACIER_IR",
  "GLACIER",
  "DEEP_ARCHIVE",
] as const;
export type TransitionStorageClass = (typeof STORAGE_CLASSES)[number];
export type StorageClass = "STANDARD" | TransitionStorageClass;

/** Classes whose objects cannot be read without a restore request: a live repository breaks there. */
export const ARCHIVE_CLASSES: ReadonlySet<StorageClass> = new Set(["GLACIER", "DEEP_ARCHIVE"]);
const IA_CLASSES: ReadonlySet<StorageClass> = new Set(["STANDARD_IA", "ONEZONE_IA"]);
/** Minimum billed storage duration per class (days); deleting or moving earlier bills the rest. */
export const MIN_STORAGE_DAYS: Record<StorageClass, number> = {
  STANDARD: 0,
  INTELLIGENT_TIERING: 0,
  STANDARD_IA: 30,
  ONEZONE_IA: 30,
  GLACIER_IR: 90,
  GLACIER: 90,
  DEEP_ARCHIVE: 180,
};

/**
 * The lifecycle waterfall: where an object in a class may move next. Standard may go anywhere; nothing
 * goes back to Standard. Follows the S3 User Guide's "supported lifecycle transitions", which also
 * allows INTELLIGENT_TIERING -> GLACIER_IR (the reference file lists a subset of this table).
 */
export const ALLOWED_NEXT: Record<StorageClass, ReadonlySet<TransitionStorageClass>> = {
  STANDARD: new Set(STORAGE_CLASSES),
  STANDARD_IA: new Set(["INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]),
  INTELLIGENT_TIERING: new Set(["ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]),
  ONEZONE_IA: new Set(["GLACIER", "DEEP_ARCHIVE"]),
  GLACIER_IR: new Set(["GLACIER", "DEEP_ARCHIVE"]),
  GLACIER: new Set(["DEEP_ARCHIVE"]),
  DEEP_ARCHIVE: new Set(),
};

export interface LifecycleFilterAnd {
  prefix?: string;
  tags?: Record<string, string>;
  objectSizeGreaterThan?: number;
  objectSizeLessThan?: number;
}

export interface LifecycleFilter {
  prefix?: string;
  tag?: { key: string; value: string };
  objectSizeGreaterThan?: number;
  objectSizeLessThan?: number;
  and?: LifecycleFilterAnd;
}

export interface Transition {
  days?: number;
  /** RFC 3339 full-date ("2027-01-01") or an ISO timestamp; S3 requires midnight UTC. */
  date?: string;
  storageClass: TransitionStorageClass;
}

export interface NoncurrentVersionTransition {
  noncurrentDays: number;
  newerNoncurrentVersions?: number;
  storageClass: TransitionStorageClass;
}

export interface LifecycleRule {
  id: string;
  status: "Enabled" | "Disabled";
  filter?: LifecycleFilter;
  /** Legacy top-level prefix (V1 rules); S3 rejects it together with a Filter. */
  prefix?: string;
  transitions?: Transition[];
  expiration?: { days?: number; date?: string; expiredObjectDeleteMarker?: boolean };
  noncurrentVersionTransitions?: NoncurrentVersionTransition[];
  noncurrentVersionExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number };
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number };
}

export type TransitionDefaultMinimumObjectSize = "all_storage_classes_128K" | "varies_by_storage_class";

export interface LifecycleConfiguration {
  rules: LifecycleRule[];
  /** Set on purpose: the default changed in September 2024 and silently decides what is transitioned. */
  transitionDefaultMinimumObjectSize?: TransitionDefaultMinimumObjectSize;
}

/** The XML element an issue is about: lets callers map an issue back to the config field it came from. */
export type LifecycleElement =
  | "Configuration"
  | "ID"
  | "Filter"
  | "Transition"
  | "Expiration"
  | "NoncurrentVersionTransition"
  | "NoncurrentVersionExpiration"
  | "AbortIncompleteMultipartUpload"
  | "Rule";

export interface LifecycleIssue {
  severity: "error" | "warning";
  /** Stable identifier of the check, for tests and suppressions. */
  code: string;
  /** null for configuration-wide findings. */
  ruleId: string | null;
  element: LifecycleElement;
  message: string;
}

/** What the validator cannot see in the rules but needs for the costly/unsafe warnings. */
export interface LifecycleContext {
  /**
   * The only prefix holding write-once exports. Any GLACIER/DEEP_ARCHIVE transition on objects outside it
   * may hit a live Borg/restic/PBS repository, which must read its data. Default "archive/".
   */
  archivePrefix?: string;
  /** Average object size in bytes; small objects cost more in archive classes than they save. */
  averageObjectBytes?: number;
  /** Days objects must stay instantly readable (promised restore window). */
  instantRestoreDays?: number;
  /** This bucket holds the only offsite copy (default true): ONEZONE_IA then loses it with one AZ. */
  onlyOffsiteCopy?: boolean;
  /**
   * Prefixes that hold a live datastore, e.g. a Proxmox Backup Server datastore on S3 (`<name>/`): its
   * chunks are read by verify, restore and garbage collection and are referenced by every snapshot.
   */
  livePrefixes?: { prefix: string; what: string }[];
}

export interface LifecycleReport {
  errors: LifecycleIssue[];
  warnings: LifecycleIssue[];
}

export const MAX_RULES = 1000;
export const MAX_ID_LENGTH = 255;
/**
 * Below this object size a Deep Archive transition does not pay back within its 180-day minimum
 * (transition request + 40 KiB overhead vs storage saved); see analysis/backup/cost.ts `deepArchiveBreakEvenBytes`,
 * which derives it from the price file. Kept here as a constant so the validator stays data-free.
 */
export const DEEP_ARCHIVE_MIN_SENSIBLE_BYTES = 0.4 * 1024 * 1024;

const isInt = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n);

/** How S3 names a rule's scope in its error messages: the prefix if there is one, else the rule id. */
export function describeFilter(rule: LifecycleRule): string {
  const p = rule.filter?.prefix ?? rule.filter?.and?.prefix ?? rule.prefix;
  return p !== undefined ? `filter '${p}'` : `rule '${rule.id}'`;
}

/** The key prefix a rule applies to ("" = whole bucket). Tag/size-only filters scope by prefix "". */
export function rulePrefix(rule: LifecycleRule): string {
  return rule.filter?.prefix ?? rule.filter?.and?.prefix ?? rule.prefix ?? "";
}

const hasTagFilter = (r: LifecycleRule): boolean =>
  r.filter?.tag !== undefined ||
  (r.filter?.and?.tags !== undefined && Object.keys(r.filter.and.tags).length > 0);
const hasSizeFilter = (r: LifecycleRule): boolean =>
  r.filter?.objectSizeGreaterThan !== undefined ||
  r.filter?.objectSizeLessThan !== undefined ||
  r.filter?.and?.objectSizeGreaterThan !== undefined ||
  r.filter?.and?.objectSizeLessThan !== undefined;
const minSizeFilter = (r: LifecycleRule): number | undefined =>
  r.filter?.objectSizeGreaterThan ?? r.filter?.and?.objectSizeGreaterThan;

/** S3 accepts "YYYY-MM-DD" (provider) or an ISO timestamp; either way it must denote midnight UTC. */
export function parseLifecycleDate(date: string): { valid: boolean; midnight: boolean; time: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2}))?$/.exec(
    date,
  );
  if (!m) return { valid: false, midnight: false, time: NaN };
  const time = Date.parse(m[4] === undefined ? `${date}T00:00:00Z` : date);
  if (Number.isNaN(time)) return { valid: false, midnight: false, time };
  // Reject calendar overflow (2027-02-30 parses as March 2nd).
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const sameDay = d.getUTCDate() === Number(m[3]) && d.getUTCMonth() === Number(m[2]) - 1;
  return { valid: sameDay, midnight: time % 86_400_000 === 0, time };
}

/** Validates a configuration the way S3 does, then lists the costly/unsafe patterns. */
export function validateLifecycle(
  config: LifecycleConfiguration,
  ctx: LifecycleContext = {},
): LifecycleReport {
  const errors: LifecycleIssue[] = [];
  for (const e of s3Errors(config)) errors.push({ severity: "error", ...e });
  // Warnings are computed even for a rejected configuration: fixing one error should not reveal a surprise.
  return { errors, warnings: lifecycleWarnings(config, ctx) };
}

type Finding = Omit<LifecycleIssue, "severity">;

function s3Errors(config: LifecycleConfiguration): Finding[] {
  const out: Finding[] = [];
  const add = (code: string, ruleId: string | null, element: LifecycleElement, message: string) =>
    out.push({ code, ruleId, element, message });

  if (config.rules.length === 0)
    add("no-rules", null, "Configuration", "The lifecycle configuration must contain at least one Rule");
  if (config.rules.length > MAX_RULES)
    add(
      "too-many-rules",
      null,
      "Configuration",
      `The number of lifecycle rules must not exceed the allowed limit of ${MAX_RULES} rules (found ${config.rules.length})`,
    );
  const tdmos = config.transitionDefaultMinimumObjectSize;
  if (tdmos !== undefined && tdmos !== "all_storage_classes_128K" && tdmos !== "varies_by_storage_class")
    add(
      "transition-default-minimum-object-size",
      null,
      "Configuration",
      `'TransitionDefaultMinimumObjectSize' must be 'all_storage_classes_128K' or 'varies_by_storage_class', not '${String(tdmos)}'`,
    );

  const seen = new Set<string>();
  for (const rule of config.rules) {
    const id = rule.id;
    const where = describeFilter(rule);
    if (seen.has(id))
      add("duplicate-id", id, "ID", `Rule ID must be unique. Found same ID '${id}' for more than one rule`);
    seen.add(id);
    if (id.length > MAX_ID_LENGTH)
      add(
        "id-too-long",
        id,
        "ID",
        `ID length should not exceed allowed limit of ${MAX_ID_LENGTH} (found ${id.length})`,
      );
    if (rule.status !== "Enabled" && rule.status !== "Disabled")
      add("status", id, "Rule", `'Status' must be 'Enabled' or 'Disabled' in rule '${id}'`);

    checkFilter(rule, add);

    const t = rule.transitions ?? [];
    const nt = rule.noncurrentVersionTransitions ?? [];
    const exp = rule.expiration;
    const nve = rule.noncurrentVersionExpiration;
    const abort = rule.abortIncompleteMultipartUpload;
    if (t.length === 0 && nt.length === 0 && exp === undefined && nve === undefined && abort === undefined)
      add("no-action", id, "Rule", `At least one action needs to be specified in a rule (${where})`);

    // --- Transitions (current versions) ---
    const classes = new Set<string>();
    let sawDays = false;
    let sawDate = false;
    for (const tr of t) {
      if (!(STORAGE_CLASSES as readonly string[]).includes(tr.storageClass))
        add(
          "storage-class",
          id,
          "Transition",
          `'${String(tr.storageClass)}' is not a valid transition StorageClass`,
        );
      if (classes.has(tr.storageClass))
        add(
          "duplicate-storage-class",
          id,
          "Transition",
          `'StorageClass' must be different for 'Transition' actions in same 'Rule' with ${where} ('${tr.storageClass}' appears twice)`,
        );
      classes.add(tr.storageClass);
      if (tr.days !== undefined && tr.date !== undefined)
        add(
          "date-and-days",
          id,
          "Transition",
          `Transition action for ${where} cannot specify both 'Date' and 'Days'`,
        );
      if (tr.days === undefined && tr.date === undefined)
        add(
          "transition-empty",
          id,
          "Transition",
          `Transition action for ${where} must specify 'Days' or 'Date'`,
        );
      if (tr.days !== undefined) {
        sawDays = true;
        if (!isInt(tr.days) || tr.days < 0)
          add(
            "days-integer",
            id,
            "Transition",
            `'Days' for Transition action must be a non-negative integer (${where})`,
          );
        else if (IA_CLASSES.has(tr.storageClass) && tr.days < 30)
          add(
            "ia-min-days",
            id,
            "Transition",
            `'Days' in Transition action must be greater than or equal to 30 for storageClass '${tr.storageClass}' (${where} has ${tr.days})`,
          );
      }
      if (tr.date !== undefined) {
        sawDate = true;
        checkDate(tr.date, id, "Transition", add);
      }
    }
    if (sawDays && sawDate)
      add(
        "mixed-date-days",
        id,
        "Transition",
        `Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule for ${where}`,
      );
    checkTransitionOrder(t, id, where, "Transition", "Days", add);

    // --- Expiration ---
    if (exp !== undefined) {
      const eodm = exp.expiredObjectDeleteMarker === true;
      if (exp.days === undefined && exp.date === undefined && exp.expiredObjectDeleteMarker === undefined)
        add(
          "expiration-empty",
          id,
          "Expiration",
          `Expiration action for ${where} must specify one of 'Days', 'Date' or 'ExpiredObjectDeleteMarker'`,
        );
      if (exp.days !== undefined && exp.date !== undefined)
        add(
          "date-and-days",
          id,
          "Expiration",
          `Expiration action for ${where} cannot specify both 'Date' and 'Days'`,
        );
      if (exp.expiredObjectDeleteMarker !== undefined && (exp.days !== undefined || exp.date !== undefined))
        add(
          "eodm-with-days",
          id,
          "Expiration",
          `ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy (${where})`,
        );
      if (exp.days !== undefined && (!isInt(exp.days) || exp.days <= 0))
        add(
          "days-positive",
          id,
          "Expiration",
          `'Days' for Expiration action must be a positive integer (${where})`,
        );
      if (exp.date !== undefined) checkDate(exp.date, id, "Expiration", add);
      if ((exp.days !== undefined && sawDate) || (exp.date !== undefined && sawDays))
        add(
          "mixed-date-days",
          id,
          "Expiration",
          `Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for ${where}`,
        );
      if (exp.days !== undefined && isInt(exp.days))
        for (const tr of t)
          if (tr.days !== undefined && isInt(tr.days) && exp.days <= tr.days)
            add(
              "expiration-before-transition",
              id,
              "Expiration",
              `'Days' in the Expiration action for ${where} must be greater than 'Days' in the Transition action (${exp.days} <= ${tr.days} for ${tr.storageClass})`,
            );
      if (exp.date !== undefined)
        for (const tr of t)
          if (tr.date !== undefined && parseLifecycleDate(exp.date).time <= parseLifecycleDate(tr.date).time)
            add(
              "expiration-before-transition",
              id,
              "Expiration",
              `'Date' in the Expiration action for ${where} must be later than 'Date' in the Transition action`,
            );
      if (eodm && (hasTagFilter(rule) || hasSizeFilter(rule)))
        add(
          "eodm-filter",
          id,
          "Expiration",
          `ExpiredObjectDeleteMarker cannot be used with a tag or object size filter (${where})`,
        );
    }

    // --- Noncurrent versions ---
    const nclasses = new Set<string>();
    for (const tr of nt) {
      if (!(STORAGE_CLASSES as readonly string[]).includes(tr.storageClass))
        add(
          "storage-class",
          id,
          "NoncurrentVersionTransition",
          `'${String(tr.storageClass)}' is not a valid transition StorageClass`,
        );
      if (nclasses.has(tr.storageClass))
        add(
          "duplicate-storage-class",
          id,
          "NoncurrentVersionTransition",
          `'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule' with ${where} ('${tr.storageClass}' appears twice)`,
        );
      nclasses.add(tr.storageClass);
      if (!isInt(tr.noncurrentDays) || tr.noncurrentDays < 0)
        add(
          "days-integer",
          id,
          "NoncurrentVersionTransition",
          `'NoncurrentDays' for NoncurrentVersionTransition action must be a non-negative integer (${where})`,
        );
      else if (IA_CLASSES.has(tr.storageClass) && tr.noncurrentDays < 30)
        add(
          "ia-min-days",
          id,
          "NoncurrentVersionTransition",
          `'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass '${tr.storageClass}' (${where} has ${tr.noncurrentDays})`,
        );
      checkNewer(tr.newerNoncurrentVersions, id, "NoncurrentVersionTransition", where, add);
    }
    checkTransitionOrder(
      nt.map((x) => ({ days: x.noncurrentDays, storageClass: x.storageClass })),
      id,
      where,
      "NoncurrentVersionTransition",
      "NoncurrentDays",
      add,
    );
    if (nve !== undefined) {
      if (!isInt(nve.noncurrentDays) || nve.noncurrentDays <= 0)
        add(
          "days-positive",
          id,
          "NoncurrentVersionExpiration",
          `'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer (${where})`,
        );
      else
        for (const tr of nt)
          if (isInt(tr.noncurrentDays) && nve.noncurrentDays <= tr.noncurrentDays)
            add(
              "expiration-before-transition",
              id,
              "NoncurrentVersionExpiration",
              `'NoncurrentDays' in the NoncurrentVersionExpiration action for ${where} must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action (${nve.noncurrentDays} <= ${tr.noncurrentDays} for ${tr.storageClass})`,
            );
      checkNewer(nve.newerNoncurrentVersions, id, "NoncurrentVersionExpiration", where, add);
    }
    if (abort !== undefined) {
      if (!isInt(abort.daysAfterInitiation) || abort.daysAfterInitiation <= 0)
        add(
          "days-positive",
          id,
          "AbortIncompleteMultipartUpload",
          `'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer (${where})`,
        );
      if (hasTagFilter(rule) || hasSizeFilter(rule))
        add(
          "abort-filter",
          id,
          "AbortIncompleteMultipartUpload",
          `AbortIncompleteMultipartUpload cannot be specified with a tag or object size filter (${where})`,
        );
    }
  }
  return out;
}

type Add = (code: string, ruleId: string | null, element: LifecycleElement, message: string) => void;

function checkFilter(rule: LifecycleRule, add: Add): void {
  const id = rule.id;
  const f = rule.filter;
  if (f !== undefined && rule.prefix !== undefined)
    add(
      "prefix-and-filter",
      id,
      "Filter",
      `Rule '${id}' can have either a top-level 'Prefix' or a 'Filter', not both`,
    );
  if (f === undefined) return;
  const predicates = (
    ["prefix", "tag", "objectSizeGreaterThan", "objectSizeLessThan", "and"] as const
  ).filter((k) => f[k] !== undefined);
  if (predicates.length > 1)
    add(
      "filter-predicates",
      id,
      "Filter",
      `The Filter of rule '${id}' can have only one predicate (found ${predicates.join(", ")}); combine several with 'And'`,
    );
  const sizes = (gt: number | undefined, lt: number | undefined) => {
    if (gt !== undefined && (!isInt(gt) || gt < 0))
      add(
        "filter-size",
        id,
        "Filter",
        `'ObjectSizeGreaterThan' in rule '${id}' must be a non-negative integer`,
      );
    if (lt !== undefined && (!isInt(lt) || lt < 1))
      add("filter-size", id, "Filter", `'ObjectSizeLessThan' in rule '${id}' must be a positive integer`);
    if (gt !== undefined && lt !== undefined && gt >= lt)
      add(
        "filter-size",
        id,
        "Filter",
        `'ObjectSizeGreaterThan' (${gt}) must be less than 'ObjectSizeLessThan' (${lt}) in rule '${id}'`,
      );
  };
  sizes(f.objectSizeGreaterThan, f.objectSizeLessThan);
  if (f.tag !== undefined && f.tag.key === "")
    add("filter-tag", id, "Filter", `The Tag filter of rule '${id}' needs a non-empty 'Key'`);
  if (f.and !== undefined) {
    const a = f.and;
    const n =
      (a.prefix !== undefined ? 1 : 0) +
      Object.keys(a.tags ?? {}).length +
      (a.objectSizeGreaterThan !== undefined ? 1 : 0) +
      (a.objectSizeLessThan !== undefined ? 1 : 0);
    if (n < 2)
      add(
        "filter-and",
        id,
        "Filter",
        `The 'And' filter of rule '${id}' must combine at least two predicates`,
      );
    if (Object.keys(a.tags ?? {}).some((k) => k === ""))
      add("filter-tag", id, "Filter", `A Tag in the 'And' filter of rule '${id}' needs a non-empty 'Key'`);
    sizes(a.objectSizeGreaterThan, a.objectSizeLessThan);
  }
}

function checkDate(date: string, id: string, element: LifecycleElement, add: Add): void {
  const p = parseLifecycleDate(date);
  if (!p.valid)
    add("date-format", id, element, `'Date' '${date}' in ${element} action is not a valid ISO 8601 date`);
  else if (!p.midnight)
    add("date-midnight", id, element, `'Date' must be at midnight GMT (found '${date}' in rule '${id}')`);
}

function checkNewer(
  n: number | undefined,
  id: string,
  element: LifecycleElement,
  where: string,
  add: Add,
): void {
  if (n !== undefined && (!isInt(n) || n < 1 || n > 100))
    add(
      "newer-noncurrent-versions",
      id,
      element,
      `'NewerNoncurrentVersions' in ${element} action for ${where} must be an integer from 1 to 100 (found ${n})`,
    );
}

/**
 * Walks a rule's transitions in time order: each step must be allowed by the waterfall, two steps on the
 * same day are ambiguous, and an archive step must come at least 30 days after an IA step.
 */
function checkTransitionOrder(
  transitions: { days?: number; storageClass: TransitionStorageClass }[],
  id: string,
  where: string,
  element: LifecycleElement,
  field: "Days" | "NoncurrentDays",
  add: Add,
): void {
  const timed = transitions
    .filter((t): t is { days: number; storageClass: TransitionStorageClass } => isInt(t.days) && t.days >= 0)
    .sort((a, b) => a.days - b.days);
  let from: StorageClass = "STANDARD";
  let iaDay: { day: number; cls: string } | undefined;
  for (let i = 0; i < timed.length; i++) {
    const t = timed[i]!;
    const prev = timed[i - 1];
    if (prev !== undefined && prev.days === t.days && prev.storageClass !== t.storageClass)
      add(
        "transition-same-day",
        id,
        element,
        `'${field}' in the ${element} actions for ${where} must differ: '${prev.storageClass}' and '${t.storageClass}' are both at ${t.days}`,
      );
    if (!(ALLOWED_NEXT[from] ?? new Set()).has(t.storageClass) && from !== t.storageClass)
      add(
        "transition-order",
        id,
        element,
        `Transition from '${from}' to '${t.storageClass}' is not supported (${where}, ${field} ${t.days}); allowed from '${from}': ${[...(ALLOWED_NEXT[from] ?? [])].join(", ") || "none"}`,
      );
    if (IA_CLASSES.has(t.storageClass)) iaDay = { day: t.days, cls: t.storageClass };
    if (ARCHIVE_CLASSES.has(t.storageClass) && iaDay !== undefined && t.days - iaDay.day < 30)
      add(
        "archive-after-ia",
        id,
        element,
        `'${field}' in the ${element} action for StorageClass '${t.storageClass}' for ${where} must be 30 days more than '${field}' in the ${element} action for StorageClass '${iaDay.cls}' (${t.days} - ${iaDay.day} < 30)`,
      );
    from = t.storageClass;
  }
}

/** The storage-class path of a rule's current versions: [{cls, from, to}] with to = next step or expiry. */
export function classTimeline(
  rule: LifecycleRule,
): { storageClass: StorageClass; fromDay: number; toDay: number | undefined }[] {
  const ts = (rule.transitions ?? [])
    .filter((t): t is Transition & { days: number } => isInt(t.days))
    .sort((a, b) => a.days - b.days);
  const end = rule.expiration?.days;
  const steps: { storageClass: StorageClass; fromDay: number; toDay: number | undefined }[] = [];
  let cls: StorageClass = "STANDARD";
  let from = 0;
  for (const t of ts) {
    if (end !== undefined && t.days >= end) break;
    steps.push({ storageClass: cls, fromDay: from, toDay: t.days });
    cls = t.storageClass;
    from = t.days;
  }
  steps.push({ storageClass: cls, fromDay: from, toDay: end });
  return steps;
}

function lifecycleWarnings(config: LifecycleConfiguration, ctx: LifecycleContext): LifecycleIssue[] {
  const out: LifecycleIssue[] = [];
  const warn = (code: string, ruleId: string | null, element: LifecycleElement, message: string) =>
    out.push({ severity: "warning", code, ruleId, element, message });
  const archivePrefix = ctx.archivePrefix ?? "archive/";
  const enabled = config.rules.filter((r) => r.status === "Enabled");
  const tdmos = config.transitionDefaultMinimumObjectSize ?? "all_storage_classes_128K";

  /** Live datastores a rule's scope overlaps (the rule covers them, or applies inside them). */
  const liveUnder = (prefix: string) =>
    (ctx.livePrefixes ?? []).filter((l) => l.prefix.startsWith(prefix) || prefix.startsWith(l.prefix));

  for (const rule of enabled) {
    const id = rule.id;
    const where = describeFilter(rule);
    const prefix = rulePrefix(rule);
    const live = liveUnder(prefix);
    const exp = rule.expiration;
    if (live.length > 0 && exp !== undefined && (exp.days !== undefined || exp.date !== undefined))
      warn(
        "expire-live-prefix",
        id,
        "Expiration",
        `${where} expires current objects of ${live.map((l) => `${l.what} under '${l.prefix}'`).join(", ")}: the datastore loses chunks its snapshots reference, and verify and restores fail; only noncurrent versions may expire there`,
      );
    if (prefix.startsWith("/"))
      warn(
        "leading-slash",
        id,
        "Filter",
        `${where} starts with '/': S3 keys have no leading slash, so this rule matches nothing (use '${prefix.replace(/^\/+/, "")}')`,
      );
    const timeline = classTimeline(rule);
    // Early deletion: a class left (by expiry or the next step) before its minimum bills the rest.
    for (const step of timeline) {
      const min = MIN_STORAGE_DAYS[step.storageClass];
      if (min > 0 && step.toDay !== undefined && step.toDay - step.fromDay < min)
        warn(
          "early-deletion",
          id,
          step.toDay === rule.expiration?.days ? "Expiration" : "Transition",
          `objects in ${where} leave ${step.storageClass} after ${step.toDay - step.fromDay} days, before its ${min}-day minimum: each pays an early-deletion charge for the remaining ${min - (step.toDay - step.fromDay)} days (expire at >= ${step.fromDay + min})`,
        );
      if (step.storageClass === "GLACIER_IR") {
        const next = timeline[timeline.indexOf(step) + 1];
        if (next && ARCHIVE_CLASSES.has(next.storageClass) && next.fromDay - step.fromDay < 90)
          warn(
            "glacier-ir-then-archive",
            id,
            "Transition",
            `${where} moves GLACIER_IR objects to ${next.storageClass} after ${next.fromDay - step.fromDay} days (< 90): Glacier IR's minimum is billed in full on top`,
          );
      }
    }
    const archiveSteps = (rule.transitions ?? []).filter((t) => ARCHIVE_CLASSES.has(t.storageClass));
    for (const t of archiveSteps) {
      if (!prefix.startsWith(archivePrefix))
        warn(
          "archive-live-prefix",
          id,
          "Transition",
          live.length > 0
            ? `${where} moves objects of ${live.map((l) => `${l.what} under '${l.prefix}'`).join(", ")} to ${t.storageClass}: the datastore could no longer read its chunks (only write-once exports belong under '${archivePrefix}')`
            : `${where} moves objects outside '${archivePrefix}' to ${t.storageClass}: a live Borg/restic/PBS repository there could no longer read its data (only write-once exports belong under '${archivePrefix}')`,
        );
      if (ctx.instantRestoreDays !== undefined && t.days !== undefined && t.days < ctx.instantRestoreDays)
        warn(
          "archive-before-restore-window",
          id,
          "Transition",
          `${where} archives to ${t.storageClass} after ${t.days} days, inside the promised ${ctx.instantRestoreDays}-day instant-restore window`,
        );
      const minSize = minSizeFilter(rule);
      if (tdmos === "varies_by_storage_class" && minSize === undefined)
        warn(
          "varies-without-size-filter",
          id,
          "Filter",
          `transitionDefaultMinimumObjectSize is 'varies_by_storage_class' and ${where} has no ObjectSizeGreaterThan: objects under 128 KB go to ${t.storageClass} and pay ~40 KB overhead and a transition each`,
        );
      if (
        ctx.averageObjectBytes !== undefined &&
        ctx.averageObjectBytes < DEEP_ARCHIVE_MIN_SENSIBLE_BYTES &&
        (minSize === undefined || minSize < DEEP_ARCHIVE_MIN_SENSIBLE_BYTES)
      )
        warn(
          "small-objects-archive",
          id,
          "Transition",
          `average object size ${(ctx.averageObjectBytes / 1024).toFixed(0)} KiB is too small for ${t.storageClass} (${where}): the transition request and per-object overhead cost more than the storage saved; pack objects (>= ~0.4 MB) or add ObjectSizeGreaterThan`,
        );
    }
    const oneZone = [...(rule.transitions ?? []), ...(rule.noncurrentVersionTransitions ?? [])].some(
      (t) => t.storageClass === "ONEZONE_IA",
    );
    if (oneZone && (ctx.onlyOffsiteCopy ?? true))
      warn(
        "onezone-only-copy",
        id,
        "Transition",
        `${where} moves data to ONEZONE_IA while this bucket holds the only offsite copy: losing one availability zone loses the backup`,
      );
  }

  if (!enabled.some((r) => r.noncurrentVersionExpiration !== undefined))
    warn(
      "no-noncurrent-expiration",
      null,
      "NoncurrentVersionExpiration",
      "no rule expires noncurrent versions: on a versioned bucket every overwrite and delete is kept and billed forever",
    );
  if (!enabled.some((r) => r.expiration?.expiredObjectDeleteMarker === true))
    warn(
      "no-delete-marker-cleanup",
      null,
      "Expiration",
      "no rule removes expired object delete markers: they accumulate and slow every LIST",
    );
  if (!enabled.some((r) => r.abortIncompleteMultipartUpload !== undefined))
    warn(
      "no-multipart-abort",
      null,
      "AbortIncompleteMultipartUpload",
      "no rule aborts incomplete multipart uploads: parts of failed uploads are billed as Standard storage until removed",
    );
  return out;
}
