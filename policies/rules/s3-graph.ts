import type { PolicyResource } from "@pulumi/policy";

/** @pulumi/aws v7 splits a bucket's settings into separate resources; these are their type tokens. */
export const S3 = {
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  logging: "aws:s3/bucketLogging:BucketLogging",
  kmsKey: "aws:kms/key:Key",
} as const;

type Part = Exclude<keyof typeof S3, "bucket" | "kmsKey">;

export interface BucketView {
  bucket: PolicyResource;
  parts: Partial<Record<Part, PolicyResource[]>>;
  /** True when some BucketLogging writes its logs into this bucket (then SSE-KMS is not possible). */
  isLogTarget: boolean;
}

/**
 * Joins each bucket with its settings resources. The join uses the engine's property dependencies
 * (known at preview, unlike a new bucket's id), falling back to equal bucket names.
 */
export function bucketViews(resources: PolicyResource[]): BucketView[] {
  const buckets = resources.filter((r) => r.type === S3.bucket);
  const owner = (r: PolicyResource, prop: string): PolicyResource | undefined => {
    const viaDeps = (r.propertyDependencies?.[prop] ?? []).find((d) => d.type === S3.bucket);
    if (viaDeps) return buckets.find((b) => b.urn === viaDeps.urn);
    const name = r.props[prop];
    return buckets.find((b) => name !== undefined && (b.props["bucket"] === name || b.props["id"] === name));
  };
  const views = new Map(
    buckets.map((b) => [b.urn, { bucket: b, parts: {}, isLogTarget: false } as BucketView]),
  );
  for (const r of resources) {
    const part = (Object.keys(S3) as (keyof typeof S3)[]).find(
      (k) => S3[k] === r.type && k !== "bucket" && k !== "kmsKey",
    ) as Part | undefined;
    if (!part) continue;
    const b = owner(r, "bucket");
    if (b) (views.get(b.urn)!.parts[part] ??= []).push(r);
    if (part === "logging") {
      const target = owner(r, "targetBucket");
      if (target) views.get(target.urn)!.isLogTarget = true;
    }
  }
  return [...views.values()];
}

/** The KMS key that `value` (an ARN or id) names, found through `prop`'s dependencies or by value. */
export function kmsKeyOf(
  r: PolicyResource,
  prop: string,
  value: unknown,
  resources: PolicyResource[],
): PolicyResource | undefined {
  const dep = (r.propertyDependencies?.[prop] ?? []).find((d) => d.type === S3.kmsKey);
  if (dep) return dep;
  return resources.find(
    (k) =>
      k.type === S3.kmsKey &&
      value !== undefined &&
      (k.props["arn"] === value || k.props["id"] === value || k.props["keyId"] === value),
  );
}

export const bucketLabel = (v: BucketView): string => String(v.bucket.props["bucket"] ?? v.bucket.name);
