/**
 * No link in the repository points to a file (or a heading) that does not exist:
 * - Markdown (every *.md): links, images, reference definitions and HTML href/src, resolved against the
 *   linking file as GitHub resolves them; `#anchor`s checked against the target page's headings with
 *   GitHub's slug rules. Paths of this repository named in the text or in code blocks (`tools/plan.ts`,
 *   `scp tools/node/homelab-root`) must exist too, resolved against the repository root.
 * - Code (*.ts, *.js, *.cjs, *.mjs, *.sh, .ci/*): Markdown paths in comments and messages
 *   (`docs/ids.md`, `README.md`), against the repository root.
 * - Workflows (.github/workflows/*.yml): paths of this repository (`.ci/run`, `policies/config/x.json`).
 *
 * Why a test: comments and errors pointed readers at pages that did not exist, one of them in the safe
 * apply's error; and code moves silently strand the paths that pages quote.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";

const ROOT = join(__dirname, "..", "..");

/** Directories that are not the repository's own text. */
const SKIP_DIRS = new Set(["node_modules", ".git", ".cache", "coverage", "bin", ".pulumi"]);

/**
 * A path whose first segment is one of these is a path of this repository. They are listed (not only
 * read from disk) so a reference to a directory that was moved away still counts as ours and fails.
 */
const OUR_DIRS = new Set([
  ".ci",
  ".github",
  "analysis",
  "components",
  "data",
  "docs",
  "model",
  "monitoring",
  "policies",
  "tests",
  "tools",
]);

/**
 * Paths that look like ours but name a file of an upstream repository (comments cite the upstream file
 * a fact comes from). Each entry must still occur, so this list cannot go stale.
 */
const UPSTREAM_CITATIONS: readonly { file: string; path: string; why: string }[] = [
  { file: "docs/pbs.md", path: "docs/storage.rst", why: "proxmox-backup's documentation source" },
  { file: "docs/pbs.md", path: "docs/managing-remotes.rst", why: "proxmox-backup's documentation source" },
  {
    file: "docs/runbooks/pbs-restore.md",
    path: "docs/storage.rst",
    why: "proxmox-backup's documentation source",
  },
  { file: "docs/compose.md", path: "components/prometheus", why: "home-assistant/core's integration" },
  {
    file: "model/presets.ts",
    path: "docs/docs/configuration/authentication.md",
    why: "blakeblackshear/frigate's documentation source",
  },
  ...["analysis/host/nft.ts", "tests/host/firewall-netns.integration.test.ts"].map((file) => ({
    file,
    path: "integration/network/bridge/iptablesdoc/generated/new-daemon.md",
    why: "moby/moby's generated iptables documentation",
  })),
];

export interface Finding {
  file: string;
  line: number;
  target: string;
  problem: string;
}

/** A reader of the repository: its files and their text, so the checker can run on fixtures too. */
export interface Tree {
  exists(path: string): boolean;
  isDir(path: string): boolean;
  read(path: string): string;
}

export const diskTree = (root: string): Tree => ({
  exists: (p) => existsSync(join(root, p)),
  isDir: (p) => existsSync(join(root, p)) && statSync(join(root, p)).isDirectory(),
  read: (p) => readFileSync(join(root, p), "utf8"),
});

export const memoryTree = (files: Record<string, string>): Tree => {
  const dirs = new Set<string>([""]);
  for (const f of Object.keys(files)) {
    for (let d = posix.dirname(f); d !== "." && !dirs.has(d); d = posix.dirname(d)) dirs.add(d);
  }
  return {
    exists: (p) => p in files || dirs.has(p),
    isDir: (p) => dirs.has(p),
    read: (p) => {
      const t = files[p];
      if (t === undefined) throw new Error(`no file ${p}`);
      return t;
    },
  };
};

function listFiles(root: string, dir = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = dir === "" ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...listFiles(root, rel));
    } else if (e.isFile()) out.push(rel);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// GitHub's heading anchors

const ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&amp;": "&",
  "&quot;": '"',
  "&#39;": "'",
};

/** The text GitHub renders for a heading's Markdown: code spans literal, links their text, no tags. */
export function headingText(md: string): string {
  return md
    .split(/(`+)(.*?)\1/)
    .map((part, i) => {
      // split() with two groups yields [text, fence, code, text, fence, code, ...]
      if (i % 3 === 2) return part;
      if (i % 3 === 1) return "";
      return part
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/<[^>]+>/g, "")
        .replace(/&[a-z0-9#]+;/gi, (e) => ENTITIES[e] ?? e)
        .replace(/(^|\W)_+|_+(?=\W|$)/g, "$1")
        .replace(/\\(.)/g, "$1");
    })
    .join("");
}

/**
 * github-slugger, which GitHub's Markdown renderer follows: lower case, drop everything that is not a
 * letter, mark, number, connector (`_`), hyphen or space, then each space becomes a hyphen.
 */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor of a Markdown page: headings (duplicates get -1, -2, ... as on GitHub) and HTML ids. */
export function anchors(md: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text, code } of lines(md)) {
    if (code) continue;
    for (const m of text.matchAll(/<a\s[^>]*(?:name|id)="([^"]+)"/g)) out.add(m[1]!);
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(text);
    if (h === null) continue;
    const base = slug(headingText(h[1]!));
    let s = base;
    const n = seen.get(base);
    if (n !== undefined) {
      seen.set(base, n + 1);
      s = `${base}-${n + 1}`;
    } else seen.set(base, 0);
    out.add(s);
  }
  return out;
}

/** Lines of a Markdown page, each marked as inside a fenced code block or not. */
function lines(md: string): { text: string; line: number; code: boolean }[] {
  let fence: string | undefined;
  return md.split("\n").map((text, i) => {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(text);
    if (fence === undefined && f !== null) {
      fence = f[1]!;
      return { text, line: i + 1, code: true };
    }
    if (fence !== undefined) {
      if (f !== null && f[1]!.startsWith(fence[0]!) && f[1]!.length >= fence.length && text.trim() === f[1])
        fence = undefined;
      return { text, line: i + 1, code: true };
    }
    return { text, line: i + 1, code: false };
  });
}

// ---------------------------------------------------------------------------------------------------
// What counts as a link

/** Links, images, reference definitions and HTML href/src of one line of Markdown prose. */
export function markdownLinks(text: string): string[] {
  const prose = text.replace(/(`+)(.*?)\1/g, (m) => " ".repeat(m.length));
  const out: string[] = [];
  for (const m of prose.matchAll(/\]\(\s*<([^>]*)>[^)]*\)|\]\(\s*([^)\s]+)(?:\s+"[^"]*")?\s*\)/g))
    out.push(m[1] ?? m[2]!);
  const def = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(prose);
  if (def !== null) out.push(def[1]!);
  for (const m of prose.matchAll(/\b(?:href|src)="([^"]+)"/g)) out.push(m[1]!);
  return out;
}

/**
 * Paths of this repository named in text: a relative path whose first segment is one of OUR_DIRS, with
 * an optional `#anchor`. Templates (`${x}`, `<stack>`), globs and URLs are not paths.
 */
export function repoPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?<![\w@$/.:~{}<>*-])((?:\.?[\w-]+)(?:\/[\w.-]+)+\/?)(#[\w-]+)?(?![\w$/{}<>*-])/g,
  )) {
    const path = m[1]!.replace(/[.]+$/, "");
    if (!OUR_DIRS.has(path.split("/")[0]!)) continue;
    out.push(path + (m[2] ?? ""));
  }
  return out;
}

/** Markdown files named in code: any `x/y.md` or a bare upper-case name such as `README.md`. */
export function markdownPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?<![\w@$/.:~{}<>*-])((?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w.-]+\.md)(#[\w-]+)?(?![\w$/{}<>*])/g,
  )) {
    const path = m[1]!;
    if (!path.includes("/") && !/^[A-Z][A-Z0-9_-]*\.md$/.test(path)) continue;
    out.push(path + (m[2] ?? ""));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The checker

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");

/** `base` joined with `rel`, or undefined when it climbs out of the repository. */
function resolveIn(base: string, rel: string): string | undefined {
  const p = posix.normalize(posix.join(base, rel)).replace(/\/$/, "");
  if (p === "..") return undefined;
  if (p.startsWith("../")) return undefined;
  return p === "." ? "" : p;
}

export function check(tree: Tree, files: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (p: string) => {
    let a = anchorCache.get(p);
    if (a === undefined) anchorCache.set(p, (a = anchors(tree.read(p))));
    return a;
  };
  /** Checks one reference; `from` is the directory it is relative to. */
  const verify = (file: string, line: number, target: string, from: string) => {
    if (UPSTREAM_CITATIONS.some((c) => c.file === file && c.path === target)) return;
    const hash = target.indexOf("#");
    const rawPath = hash === -1 ? target : target.slice(0, hash);
    const anchor = hash === -1 ? undefined : target.slice(hash + 1);
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      findings.push({ file, line, target, problem: "is not a valid URL path" });
      return;
    }
    const resolved =
      path === "" ? file : resolveIn(path.startsWith("/") ? "" : from, path.replace(/^\//, ""));
    if (resolved === undefined) {
      findings.push({ file, line, target, problem: "points outside the repository" });
      return;
    }
    if (!tree.exists(resolved)) {
      findings.push({ file, line, target, problem: `${resolved} does not exist` });
      return;
    }
    if (anchor === undefined || anchor === "") return;
    if (tree.isDir(resolved) || !resolved.endsWith(".md")) return;
    if (!anchorsOf(resolved).has(anchor))
      findings.push({ file, line, target, problem: `${resolved} has no heading with the anchor #${anchor}` });
  };

  for (const file of files) {
    const text = tree.read(file);
    const dir = posix.dirname(file) === "." ? "" : posix.dirname(file);
    if (file.endsWith(".md")) {
      for (const l of lines(text)) {
        if (!l.code) for (const t of markdownLinks(l.text)) if (!isExternal(t)) verify(file, l.line, t, dir);
        for (const t of repoPaths(l.text)) verify(file, l.line, t, "");
      }
    } else if (/^\.github\/workflows\/[^/]+\.ya?ml$/.test(file)) {
      text.split("\n").forEach((t, i) => repoPaths(t).forEach((p) => verify(file, i + 1, p, "")));
    } else if (/\.(ts|js|cjs|mjs|sh)$/.test(file) || file.startsWith(".ci/")) {
      text.split("\n").forEach((t, i) => markdownPaths(t).forEach((p) => verify(file, i + 1, p, "")));
    }
  }
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.file}:${f.line}:${f.target}`;
    return !seen.has(k) && (seen.add(k), true);
  });
}

const show = (fs: Finding[]) => fs.map((f) => `${f.file}:${f.line}: ${f.target}: ${f.problem}`);

// ---------------------------------------------------------------------------------------------------

describe("links in the repository", () => {
  // This file's fixtures are broken on purpose.
  const files = listFiles(ROOT).filter((f) => f !== "tests/docs/links.test.ts");

  it("every link, path and anchor points to something that exists", () => {
    expect(show(check(diskTree(ROOT), files))).toEqual([]);
  });

  it("looks at the pages, the code and the workflows (not an empty walk)", () => {
    expect(files).toEqual(expect.arrayContaining(["README.md", "docs/configuration.md", "program.ts"]));
    expect(files.some((f) => f.startsWith(".github/workflows/"))).toBe(true);
    expect(files.some((f) => f.startsWith("node_modules/") || f.startsWith(".git/"))).toBe(false);
  });

  it("links every page of docs/ from README.md (one click to any topic)", () => {
    const linked = new Set(
      lines(readFileSync(join(ROOT, "README.md"), "utf8"))
        .filter((l) => !l.code)
        .flatMap((l) => markdownLinks(l.text))
        .map((t) => posix.normalize(t.split("#")[0]!)),
    );
    const pages = files.filter((f) => f.startsWith("docs/") && f.endsWith(".md"));
    expect(pages.length).toBeGreaterThan(20);
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });

  it.each(UPSTREAM_CITATIONS.map((c) => [c.file, c.path, c.why] as const))(
    "upstream citation in %s still reads %s (%s)",
    (file, path) => {
      const text = readFileSync(join(ROOT, file), "utf8");
      expect(file.endsWith(".md") ? repoPaths(text) : markdownPaths(text)).toContain(path);
    },
  );
});

describe("the checker (on fixture trees)", () => {
  const tree = memoryTree({
    "README.md": [
      "# Home",
      "[ok](docs/a.md) [dir](docs/) [missing](docs/nope.md) ![img](docs/pic.png)",
      "[anchor ok](docs/a.md#the-homelabsegments-key) [anchor bad](docs/a.md#nothing-here)",
      "[self](#home) [self bad](#away) [web](https://example.com/x.md) [mail](mailto:a@b.c)",
      "`[not a link](in/code.md)` and the path `tools/plan.ts` and `tools/gone.ts`",
      "[up](../outside.md)",
      "[ref]: docs/ref-missing.md",
      '<a href="docs/b.md">b</a>',
      "```sh",
      "[in a fence](fenced.md)",
      "scp tools/node/missing-helper host:",
      "```",
    ].join("\n"),
    "docs/a.md": [
      "# A",
      "## The `homelab:segments[]` key",
      "## Same",
      "## Same",
      "[dup](#same-1) [dup bad](#same-2) [rel](../README.md#home) [sibling](b.md) [abs](/docs/a.md#a)",
    ].join("\n"),
    "docs/b.md": "# B",
    "docs/pic.png": "",
    "tools/plan.ts": "// see docs/a.md and README.md, docs/c.md, DESIGN.md, upstream https://x.y/README.md",
    ".github/workflows/ci.yml":
      "run: bash .ci/run && node tools/plan.ts --file policies/config/${{ x }}.json",
  });
  const files = ["README.md", "docs/a.md", "tools/plan.ts", ".github/workflows/ci.yml"];
  const found = show(check(tree, files));

  it("reports each broken link with file, line and why, and nothing else", () => {
    expect(found).toEqual([
      "README.md:2: docs/nope.md: docs/nope.md does not exist",
      "README.md:3: docs/a.md#nothing-here: docs/a.md has no heading with the anchor #nothing-here",
      "README.md:4: #away: README.md has no heading with the anchor #away",
      "README.md:5: tools/gone.ts: tools/gone.ts does not exist",
      "README.md:6: ../outside.md: points outside the repository",
      "README.md:7: docs/ref-missing.md: docs/ref-missing.md does not exist",
      "README.md:11: tools/node/missing-helper: tools/node/missing-helper does not exist",
      "docs/a.md:5: #same-2: docs/a.md has no heading with the anchor #same-2",
      "tools/plan.ts:1: docs/c.md: docs/c.md does not exist",
      "tools/plan.ts:1: DESIGN.md: DESIGN.md does not exist",
      ".github/workflows/ci.yml:1: .ci/run: .ci/run does not exist",
    ]);
  });

  it("follows GitHub's slugs", () => {
    expect(slug(headingText("The `homelab:segments[]` key"))).toBe("the-homelabsegments-key");
    expect(slug(headingText("Layout: `hot/` and `archive/`"))).toBe("layout-hot-and-archive");
    expect(slug(headingText('IDS, IPS, and "IPS where the hardware allows"'))).toBe(
      "ids-ips-and-ips-where-the-hardware-allows",
    );
    expect(slug(headingText("Stack `network` (`Pulumi.network.yaml`)"))).toBe(
      "stack-network-puluminetworkyaml",
    );
    expect(slug(headingText("A [link](x.md) and _emphasis_ in snake_case"))).toBe(
      "a-link-and-emphasis-in-snake_case",
    );
    expect(slug(headingText("Datasets: owner and mode"))).toBe("datasets-owner-and-mode");
  });
});
