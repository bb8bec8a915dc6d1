/**
 * Renovate's regex managers are only as good as their patterns: this applies them the way Renovate does
 * (each managerFilePattern against repo paths, each matchString globally over the file) and checks that
 * every image the model can see is found, with the right tag.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { PRESETS } from "../../model/presets";
import { ROOT } from "../fixtures/reference";
import { WORKFLOW_DIR, workflowFiles } from "./workflows";

interface RegexManager {
  customType: "regex";
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate: string;
  depNameTemplate?: string;
}
interface RenovateConfig {
  extends: string[];
  rangeStrategy: string;
  customManagers: RegexManager[];
  packageRules: {
    matchManagers?: string[];
    matchPackageNames?: string[];
    matchDatasources?: string[];
    matchUpdateTypes?: string[];
    groupName?: string;
    enabled?: boolean;
    pinDigests?: boolean;
    allowedVersions?: string;
  }[];
}

const config = JSON.parse(readFileSync(join(ROOT, "renovate.json"), "utf8")) as RenovateConfig;
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Renovate writes regex file patterns as "/…/". */
const fileRegex = (p: string): RegExp => {
  const m = /^\/(.*)\/([a-z]*)$/.exec(p);
  if (!m) throw new Error(`not a regex pattern: ${p}`);
  return new RegExp(m[1]!, m[2]);
};

/** What Renovate would extract from `file` (a repo-relative path) with every custom manager. */
function extract(
  file: string,
): { manager: number; depName?: string; currentValue?: string; currentDigest?: string }[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return config.customManagers.flatMap((m, i) =>
    m.managerFilePatterns.some((p) => fileRegex(p).test(file))
      ? m.matchStrings.flatMap((s) =>
          [...text.matchAll(new RegExp(s, "g"))].map((x) => ({
            manager: i,
            ...(x.groups?.depName !== undefined ? { depName: x.groups.depName } : {}),
            ...(x.groups?.currentValue !== undefined ? { currentValue: x.groups.currentValue } : {}),
            ...(x.groups?.currentDigest !== undefined ? { currentDigest: x.groups.currentDigest } : {}),
          })),
        )
      : [],
  );
}

/** Every `image:` value in a parsed YAML tree. */
function imagesIn(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => imagesIn(x, out));
  else if (typeof v === "object" && v !== null)
    for (const [k, x] of Object.entries(v)) {
      if (k === "image" && typeof x === "string") out.push(x);
      else imagesIn(x, out);
    }
  return out;
}

const stackFiles = readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.ya?ml$/.test(f) && f !== "Pulumi.yaml");

describe("renovate.json", () => {
  it("pins npm ranges and SHA-pins GitHub Actions", () => {
    expect(config.rangeStrategy).toBe("pin");
    expect(config.extends).toContain("helpers:pinGitHubActionDigests");
    // Pinned already: an exact version for every dependency, so `pin` changes nothing but new ones.
    for (const [name, v] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }))
      expect({ name, v }).toEqual({ name, v: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
  });

  it("groups npm non-major updates and the Pulumi packages (SDK, providers, CLI)", () => {
    const groups = config.packageRules.filter((r) => r.groupName);
    expect(groups.find((r) => r.groupName === "npm non-major")?.matchManagers).toEqual(["npm"]);
    const pulumi = groups.find((r) => r.groupName === "pulumi")!;
    for (const name of Object.keys(pkg.dependencies).filter(
      (n) => n.startsWith("@pulumi/") || n.includes("pulumi-"),
    ))
      expect(
        pulumi.matchPackageNames!.some(
          (p) => p === name || (p.endsWith("/**") && name.startsWith(p.slice(0, -2))),
        ),
      ).toBe(true);
    expect(pulumi.matchPackageNames).toContain("pulumi/pulumi");
  });

  it("keeps the proxmoxve provider on its major (types are renamed without aliases)", () => {
    expect(config.packageRules).toContainEqual(
      expect.objectContaining({
        matchPackageNames: ["@muhlba91/pulumi-proxmoxve"],
        matchUpdateTypes: ["major"],
        enabled: false,
      }),
    );
  });

  it("pins @pulumi/command on the real 1.x line and never offers the erroneous 4.5.0", () => {
    // `npm view @pulumi/command versions dist-tags`: 0.x, 1.0.0 … 1.2.1, then a stray 4.5.0; latest 1.2.1.
    expect(pkg.dependencies["@pulumi/command"]).toMatch(/^1\.\d+\.\d+$/);
    const rule = config.packageRules.find(
      (r) => r.matchPackageNames?.includes("@pulumi/command") && r.allowedVersions,
    );
    // Renovate's "!/re/" allowedVersions: versions matching re are not allowed.
    const m = /^!\/(.*)\/$/.exec(rule?.allowedVersions ?? "");
    expect(m).not.toBeNull();
    const denied = new RegExp(m![1]!);
    expect(denied.test("4.5.0")).toBe(true);
    for (const v of ["1.2.1", "1.3.0", "2.0.0", "4.5.1"]) expect([v, denied.test(v)]).toEqual([v, false]);
  });

  it.each(stackFiles)("finds every container image of %s, with its tag", (file) => {
    const images = imagesIn(parse(readFileSync(join(ROOT, file), "utf8")));
    const found = extract(file);
    expect(found.every((f) => config.customManagers[f.manager]!.datasourceTemplate === "docker")).toBe(true);
    expect(found.map((f) => `${f.depName}:${f.currentValue}`).sort()).toEqual(images.sort());
  });

  it("finds every image of the preset catalog", () => {
    const images = Object.values(PRESETS)
      .map((p) => p.image)
      .filter((i): i is string => typeof i === "string");
    expect(images.length).toBeGreaterThan(5);
    const found = extract("model/presets.ts");
    expect(found.map((f) => `${f.depName}:${f.currentValue}`).sort()).toEqual(images.sort());
  });

  it("captures a digest that follows the image, in both file styles", () => {
    const m = config.customManagers.map((c) => new RegExp(c.matchStrings[0]!));
    const digest = `sha256:${"ab".repeat(32)}`;
    const yaml = `        - name: x\n          image: ghcr.io/org/app:v1.2.3\n          digest: ${digest}\n`;
    const flow = `    - { name: x, image: ghcr.io/org/app:v1.2.3, digest: ${digest} }\n`;
    const ts = `  x: {\n    image: "ghcr.io/org/app:v1.2.3",\n    digest: "${digest}",\n`;
    expect(yaml.match(m[0]!)?.groups).toMatchObject({
      depName: "ghcr.io/org/app",
      currentValue: "v1.2.3",
      currentDigest: digest,
    });
    expect(flow.match(m[0]!)?.groups).toMatchObject({ currentDigest: digest });
    expect(ts.match(m[1]!)?.groups).toMatchObject({ depName: "ghcr.io/org/app", currentDigest: digest });
  });

  it("tracks the Pulumi CLI in every workflow, at the version of the SDK", () => {
    const sdk = pkg.dependencies["@pulumi/pulumi"];
    const files = workflowFiles().map((f) => relative(ROOT, join(WORKFLOW_DIR, f)));
    const found = files.flatMap(extract);
    const inText = files.flatMap((f) => readFileSync(join(ROOT, f), "utf8").match(/pulumi-version:/g) ?? []);
    expect(found.length).toBe(inText.length);
    expect(found.length).toBeGreaterThan(0);
    for (const f of found) expect(f.currentValue).toBe(sdk);
  });
});
