// Runs a TypeScript entry point fast: esbuild bundles it (node_modules stay external, ~0.1 s), and
// plain Node runs the bundle with its on-disk compile cache, so V8 does not recompile @pulumi/* and the
// program on every run (that was most of a plan's time under tsx). The bundle is content-addressed and
// renamed into place, so parallel runs (jest workers, bench) never read a half-written file. A manifest
// of the bundle's inputs (size and mtime of every source file, tsconfig, package.json, esbuild itself)
// lets a run whose sources did not change skip esbuild altogether: 0.1-0.5 s of a ~1 s plan.
// Usage: node tools/run.js <entry.ts> [args...]   (used by `npm run plan` and `npm run bench`)
"use strict";
const { createHash } = require("node:crypto");
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync } = require("node:fs");
const { join, basename } = require("node:path");
const { enableCompileCache } = require("node:module");

const root = join(__dirname, "..");
const entry = process.argv[2];
if (!entry) {
  process.stderr.write("usage: node tools/run.js <entry.ts> [args...]\n");
  process.exit(2);
}
const dir = join(root, ".cache", "run");
const manifest = join(
  dir,
  `${basename(entry, ".ts")}.${createHash("sha256").update(entry).digest("hex").slice(0, 8)}.inputs.json`,
);
/** Files whose change changes the bundle without being one of its inputs. */
const ALWAYS = ["tsconfig.json", "package.json", "node_modules/esbuild/package.json", "tools/run.js"];

const stamp = (file) => {
  const s = statSync(join(root, file));
  return [s.mtimeMs, s.size];
};

/** The bundle of an earlier run, if none of its inputs changed since. */
function cachedBundle() {
  try {
    const m = JSON.parse(readFileSync(manifest, "utf8"));
    for (const [file, [mtimeMs, size]] of Object.entries(m.inputs)) {
      const [t, n] = stamp(file);
      if (t !== mtimeMs || n !== size) return null;
    }
    return existsSync(m.bundle) ? m.bundle : null;
  } catch {
    return null;
  }
}

const writeAtomically = (path, text) => {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
};

function build() {
  const started = Date.now();
  const { outputFiles, metafile } = require("esbuild").buildSync({
    absWorkingDir: root,
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    packages: "external",
    sourcemap: "inline",
    logLevel: "warning",
    // import() of an external package would go through the ESM resolver (no extensionless paths): use require.
    supported: { "dynamic-import": false },
    write: false,
    metafile: true,
    outfile: "bundle.js",
  });
  const code = outputFiles[0].text;
  const outfile = join(
    dir,
    `${basename(entry, ".ts")}.${createHash("sha256").update(code).digest("hex").slice(0, 16)}.js`,
  );
  mkdirSync(dir, { recursive: true });
  if (!existsSync(outfile)) writeAtomically(outfile, code);
  const inputs = {};
  for (const file of [...Object.keys(metafile.inputs), ...ALWAYS]) inputs[file] = stamp(file);
  // A file saved while esbuild read it may be newer than what was bundled: leave no manifest then.
  if (Object.values(inputs).every(([mtimeMs]) => mtimeMs < started))
    writeAtomically(manifest, JSON.stringify({ bundle: outfile, inputs }));
  return outfile;
}

const outfile = cachedBundle() ?? build();
enableCompileCache?.(join(root, ".cache", "v8"));
// The bundle runs from .cache/run: entry points find the project through this, not __dirname.
process.env.HOMELAB_ROOT = root;
process.argv.splice(1, 2, outfile);
// As the main module (not a require from here), so an entry point's `require.main === module` holds.
require("node:module").runMain();
