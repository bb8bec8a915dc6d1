/**
 * The IAM policy evaluator (analysis/backup/iam-policy.ts) against the rules of the IAM User Guide
 * ("Policy evaluation logic"; "IAM JSON policy elements: Condition operators": a key missing from the
 * request makes a condition false, except negated operators and ...IfExists, which are true, and Null),
 * and the vault's bucket policy judged with it.
 */
import { bucketPolicy, writerPolicy } from "../../components/backup/BackupVault";
import {
  canPerform,
  conditionHolds,
  evaluate,
  parsePolicy,
  PolicyError,
  wildcard,
  type AttachedPolicy,
} from "../../analysis/backup/iam-policy";

const BUCKET = "arn:aws:s3:::vault";
const KEY = "arn:aws:kms:eu-central-1:123456789012:key/k";
const WRITER = "arn:aws:iam::123456789012:user/homelab/vault-writer";
const ADMIN = "arn:aws:iam::123456789012:user/admin";

const resource = (doc: string, source = "bucket-policy"): AttachedPolicy => ({
  kind: "resource",
  doc: parsePolicy(doc)!,
  source,
});
const identity = (doc: string, source = "writer-policy"): AttachedPolicy => ({
  kind: "identity",
  doc: parsePolicy(doc)!,
  source,
});

describe("condition operators (IAM User Guide semantics)", () => {
  it("a missing key makes plain operators false, negated operators and IfExists true, and Null tests presence", () => {
    expect(conditionHolds({ StringEquals: { k: "a" } }, {})).toBe(false);
    expect(conditionHolds({ StringNotEquals: { k: "a" } }, {})).toBe(true);
    expect(conditionHolds({ StringEqualsIfExists: { k: "a" } }, {})).toBe(true);
    expect(conditionHolds({ StringNotEqualsIfExists: { k: "a" } }, {})).toBe(true);
    expect(conditionHolds({ NumericLessThan: { k: "5" } }, {})).toBe(false);
    expect(conditionHolds({ Null: { k: "true" } }, {})).toBe(true);
    expect(conditionHolds({ Null: { k: "false" } }, {})).toBe(false);
    expect(conditionHolds({ Null: { k: "false" } }, { k: "x" })).toBe(true);
  });

  it("ANDs operators and keys, ORs the values of one key, and a negated operator must match none", () => {
    expect(conditionHolds({ StringEquals: { a: ["1", "2"] } }, { a: "2" })).toBe(true);
    expect(conditionHolds({ StringNotEquals: { a: ["1", "2"] } }, { a: "2" })).toBe(false);
    expect(conditionHolds({ StringNotEquals: { a: ["1", "2"] } }, { a: "3" })).toBe(true);
    expect(conditionHolds({ StringEquals: { a: "1" }, Bool: { b: "true" } }, { a: "1", b: "false" })).toBe(
      false,
    );
    expect(conditionHolds({ NumericLessThan: { d: "180" } }, { d: "179" })).toBe(true);
    expect(conditionHolds({ NumericLessThan: { d: "180" } }, { d: "180" })).toBe(false);
    expect(conditionHolds({ StringLike: { p: ["hot/*"] } }, { p: "hot/borg/x" })).toBe(true);
    // Condition keys are case-insensitive.
    expect(
      conditionHolds({ Bool: { "aws:SecureTransport": "false" } }, { "aws:securetransport": "false" }),
    ).toBe(true);
  });

  it("refuses operators it does not model instead of guessing", () => {
    expect(() => conditionHolds({ "ForAnyValue:StringEquals": { k: "a" } }, { k: "a" })).toThrow(PolicyError);
    expect(() => conditionHolds({ IpAddress: { "aws:SourceIp": "10.0.0.0/8" } }, { k: "a" })).toThrow(
      PolicyError,
    );
  });

  it("wildcards: * and ?, anchored, actions case-insensitive", () => {
    expect(wildcard("s3:Put*", "s3:PutObject")).toBe(true);
    expect(wildcard("s3:Get?bject", "s3:GetObject")).toBe(true);
    expect(wildcard("arn:aws:s3:::vault/hot/*", "arn:aws:s3:::vault/archive/x")).toBe(false);
    const doc = identity(
      JSON.stringify({ Statement: [{ Effect: "Allow", Action: "S3:putobject", Resource: "*" }] }),
    );
    expect(
      evaluate([doc], { principal: WRITER, action: "s3:PutObject", resource: "x", context: {} }).decision,
    ).toBe("allow");
  });
});

describe("evaluation: explicit deny wins, then any allow, else implicit deny", () => {
  const allowAll = identity(
    JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }),
  );
  const denyWriter = resource(
    JSON.stringify({
      Statement: [
        {
          Effect: "Deny",
          Principal: { AWS: WRITER },
          Action: "s3:DeleteObjectVersion",
          Resource: `${BUCKET}/*`,
        },
      ],
    }),
  );

  it("a bucket policy deny for the writer beats its identity allow, and does not touch other principals", () => {
    const req = { action: "s3:DeleteObjectVersion", resource: `${BUCKET}/hot/x`, context: {} };
    expect(evaluate([allowAll, denyWriter], { ...req, principal: WRITER })).toEqual({
      decision: "explicit-deny",
      by: "bucket-policy",
    });
    expect(evaluate([allowAll, denyWriter], { ...req, principal: ADMIN }).decision).toBe("allow");
    expect(evaluate([denyWriter], { ...req, principal: ADMIN }).decision).toBe("implicit-deny");
  });

  it("an account id or root ARN as principal names every principal of the account; a pattern ARN matches its shape", () => {
    const byAccount = resource(
      JSON.stringify({
        Statement: [
          { Effect: "Allow", Principal: { AWS: "123456789012" }, Action: "s3:GetObject", Resource: "*" },
        ],
      }),
    );
    const req = { action: "s3:GetObject", resource: `${BUCKET}/x`, context: {} };
    expect(evaluate([byAccount], { ...req, principal: WRITER }).decision).toBe("allow");
    expect(evaluate([byAccount], { ...req, principal: "arn:aws:iam::999999999999:user/x" }).decision).toBe(
      "implicit-deny",
    );
    // At preview the writer's account is unknown: its ARN is a pattern.
    expect(
      evaluate([denyWriter, allowAll], {
        action: "s3:DeleteObjectVersion",
        resource: `${BUCKET}/x`,
        context: {},
        principal: "arn:*:iam::*:user/homelab/vault-writer",
      }).decision,
    ).toBe("explicit-deny");
  });

  it("NotAction and NotResource exclude what they name", () => {
    const doc = identity(
      JSON.stringify({
        Statement: [{ Effect: "Allow", NotAction: "s3:Delete*", NotResource: `${BUCKET}/archive/*` }],
      }),
    );
    const at = (action: string, key: string) =>
      evaluate([doc], { principal: WRITER, action, resource: `${BUCKET}/${key}`, context: {} }).decision;
    expect(at("s3:PutObject", "hot/x")).toBe("allow");
    expect(at("s3:DeleteObject", "hot/x")).toBe("implicit-deny");
    expect(at("s3:PutObject", "archive/x")).toBe("implicit-deny");
  });

  it("canPerform finds a request context that gets past conditional denies, or proves there is none", () => {
    const policies = [
      allowAll,
      resource(
        JSON.stringify({
          Statement: [
            {
              Effect: "Deny",
              Principal: "*",
              Action: "s3:PutObject",
              Resource: `${BUCKET}/*`,
              Condition: { NumericLessThan: { "s3:object-lock-remaining-retention-days": "180" } },
            },
            {
              Effect: "Deny",
              Principal: "*",
              Action: "s3:PutObject",
              Resource: `${BUCKET}/archive/*`,
              Condition: {
                Null: { "s3:if-none-match": "true" },
                Bool: { "s3:ObjectCreationOperation": "true" },
              },
            },
          ],
        }),
      ),
    ];
    const req = { principal: WRITER, action: "s3:PutObject" };
    // Without a retention header the first deny does not apply: a write is possible.
    expect(canPerform(policies, { ...req, resource: `${BUCKET}/hot/x` }).allowed).toBe(true);
    // An overwrite (a completing write without If-None-Match) of archive/ is impossible...
    expect(
      canPerform(
        policies,
        { ...req, resource: `${BUCKET}/archive/x` },
        {
          "s3:ObjectCreationOperation": "true",
          "s3:if-none-match": undefined,
        },
      ).allowed,
    ).toBe(false);
    // ...while a write with If-None-Match (which S3 refuses on an existing key) is allowed.
    const w = canPerform(
      policies,
      { ...req, resource: `${BUCKET}/archive/x` },
      { "s3:ObjectCreationOperation": "true" },
    );
    expect(w).toMatchObject({ allowed: true, witness: { "s3:ObjectCreationOperation": "true" } });
    expect(w.witness!["s3:if-none-match"]).toBeDefined();
  });
});

describe("the vault's bucket policy, judged by the evaluator", () => {
  const writer = identity(writerPolicy({ bucketArn: BUCKET, objectLock: true }));
  const admin = identity(
    JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }),
    "admin",
  );
  const policy = (lock = { days: 180, mode: "GOVERNANCE" }) =>
    resource(bucketPolicy({ bucketArn: BUCKET, keyArn: KEY, writerArn: WRITER, lock }), "vault-policy");
  const tls = { "aws:SecureTransport": "true" };

  it("lets the parts of a multipart upload through: UploadPart carries no encryption header (defect: denied before)", () => {
    // UploadPart is authorized as s3:PutObject and never carries x-amz-server-side-encryption. The earlier
    // StringNotEqualsIfExists deny was true for the missing key and refused every part.
    const uploadPart = { ...tls, "s3:ObjectCreationOperation": "false" };
    expect(
      evaluate([writer, policy()], {
        principal: WRITER,
        action: "s3:PutObject",
        resource: `${BUCKET}/archive/borg/x.tar.gpg`,
        context: uploadPart,
      }),
    ).toEqual({ decision: "allow", by: "writer-policy:PutBackups" });
    const before = resource(
      JSON.stringify({
        Statement: [
          {
            Sid: "DenyNonKmsPuts",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${BUCKET}/*`,
            Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
          },
        ],
      }),
    );
    expect(
      evaluate([writer, before], {
        principal: WRITER,
        action: "s3:PutObject",
        resource: `${BUCKET}/hot/x`,
        context: uploadPart,
      }).decision,
    ).toBe("explicit-deny");
  });

  it("still refuses a PUT that asks for another encryption or another KMS key", () => {
    const put = (ctx: Record<string, string>) =>
      evaluate([writer, policy()], {
        principal: WRITER,
        action: "s3:PutObject",
        resource: `${BUCKET}/hot/x`,
        context: { ...tls, ...ctx },
      }).decision;
    expect(put({ "s3:x-amz-server-side-encryption": "AES256" })).toBe("explicit-deny");
    expect(
      put({
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": "other",
      }),
    ).toBe("explicit-deny");
    expect(
      put({
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY,
      }),
    ).toBe("allow");
    expect(put({})).toBe("allow");
  });

  it("archive/ locks: at least the configured days for anyone; for the writer not another mode nor far longer", () => {
    const lock = (who: string, ctx: Record<string, string>) =>
      evaluate([writer, admin, policy()], {
        principal: who,
        action: "s3:PutObjectRetention",
        resource: `${BUCKET}/archive/x`,
        context: { ...tls, ...ctx },
      }).decision;
    const g = { "s3:object-lock-mode": "GOVERNANCE" };
    expect(lock(WRITER, { ...g, "s3:object-lock-remaining-retention-days": "181" })).toBe("allow");
    expect(lock(WRITER, { ...g, "s3:object-lock-remaining-retention-days": "179" })).toBe("explicit-deny");
    expect(lock(ADMIN, { ...g, "s3:object-lock-remaining-retention-days": "179" })).toBe("explicit-deny");
    expect(lock(WRITER, { ...g, "s3:object-lock-remaining-retention-days": "36500" })).toBe("explicit-deny");
    expect(lock(ADMIN, { ...g, "s3:object-lock-remaining-retention-days": "36500" })).toBe("allow");
    expect(
      lock(WRITER, { "s3:object-lock-mode": "COMPLIANCE", "s3:object-lock-remaining-retention-days": "181" }),
    ).toBe("explicit-deny");
    // hot/ is never locked: the live mirror must stay prunable.
    expect(
      evaluate([admin, policy()], {
        principal: ADMIN,
        action: "s3:PutObjectRetention",
        resource: `${BUCKET}/hot/x`,
        context: tls,
      }).decision,
    ).toBe("explicit-deny");
  });

  it("the writer can never erase, bypass a lock, read, or reconfigure, whatever it sends", () => {
    for (const [action, res] of [
      ["s3:DeleteObject", `${BUCKET}/hot/x`],
      ["s3:DeleteObjectVersion", `${BUCKET}/archive/x`],
      ["s3:BypassGovernanceRetention", `${BUCKET}/archive/x`],
      ["s3:GetObject", `${BUCKET}/archive/x`],
      ["s3:PutLifecycleConfiguration", BUCKET],
      ["s3:PutBucketPolicy", BUCKET],
      ["s3:PutBucketVersioning", BUCKET],
    ])
      expect([
        action,
        canPerform([writer, policy()], { principal: WRITER, action: action!, resource: res! }).allowed,
      ]).toEqual([action, false]);
  });
});
