// Runs a TypeScript entry point fast: esbuild bundles it (node_modules stay external, ~0.1 s), and
// plain Node runs the bundle with its on-disk compile cache, so V8 does not recompile @pulumi/* and the
// program on every run (that was most of a plan's time under tsx). The bundle is content-addressed and
// renamed into place, so parallel runs (jest workers, bench) never read a half-written file.
// Usage: node tools/run.js <entry.ts> [args...]   (used by `npm run plan` and `npm run bench`)
"use strict";
const { createHash } = require("node:crypto");
const { mkdirSync, renameSync, writeFileSync, existsSync } = require("node:fs");
const { join, basename } = require("node:path");
const { enableCompileCache } = require("node:module");
const esbuild = require("esbuild");

const root = join(__dirname, "..");
const entry = process.argv[2];
if (!entry) {
  process.stderr.write("usage: node tools/run.js <entry.ts> [args...]\n");
  process.exit(2);
}
const { outputFiles } = esbuild.buildSync({
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
  outfile: "bundle.js",
});
const code = outputFiles[0].text;
const dir = join(root, ".cache", "run");
const outfile = join(
  dir,
  `${basename(entry, ".ts")}.${createHash("sha256").update(code).digest("hex").slice(0, 16)}.js`,
);
if (!existsSync(outfile)) {
  mkdirSync(dir, { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, outfile);
}
enableCompileCache?.(join(root, ".cache", "v8"));
// The bundle runs from .cache/run: entry points find the project through this, not __dirname.
process.env.HOMELAB_ROOT = root;
process.argv.splice(1, 2, outfile);
require(outfile);
