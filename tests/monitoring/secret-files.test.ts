/**
 * How the compose deployer writes a file a service reads (components/compose/remote.ts
 * rootWriteCommand), run for real with sh in a temp directory as root: the mode and owner it is given,
 * the directories on the way still traversable by the non-root container, the content from stdin only
 * (never on the command line). As the deploy user the same goes through the root helper, which the
 * deploy rehearsal exercises.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootWriteCommand } from "../../components/compose/remote";

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "secret-files-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

if (process.getuid?.() !== 0)
  throw new Error("these tests write files owned by other uids: run them as root");

test("writes a credential 0600 owned by the reading container, its new directories 0755", () => {
  const path = join(dir, "alertmanager", "secrets", "ntfy.bearer");
  const cmd = rootWriteCommand(path, "0600", "65534:65534");
  expect(cmd).not.toContain("s3cr3t");
  const r = spawnSync("sh", ["-c", cmd], { input: "s3cr3t-token", encoding: "utf8" });
  expect([r.status, r.stderr]).toEqual([0, ""]);
  const st = statSync(path);
  expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o600, 65534, 65534]);
  for (const d of [join(dir, "alertmanager"), join(dir, "alertmanager", "secrets")])
    expect(statSync(d).mode & 0o777).toBe(0o755);
  expect(readFileSync(path, "utf8")).toBe("s3cr3t-token");
});

test("replaces a file atomically: no temp file is left, the new content and mode win", () => {
  const path = join(dir, "prometheus", "prometheus.yml");
  for (const content of ["global: {}\n", "global: { scrape_interval: 30s }\n"]) {
    const r = spawnSync("sh", ["-c", rootWriteCommand(path, "0644", "0:0")], {
      input: content,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
  }
  expect(statSync(path).mode & 0o777).toBe(0o644);
  expect(readFileSync(path, "utf8")).toBe("global: { scrape_interval: 30s }\n");
  expect(spawnSync("sh", ["-c", `ls -A ${join(dir, "prometheus")}`], { encoding: "utf8" }).stdout).toBe(
    "prometheus.yml\n",
  );
});
