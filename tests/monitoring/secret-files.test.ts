/**
 * How the compose deployer writes a credential file (components/compose/remote.ts writeFileCommand), run
 * for real with sh in a temp directory: mode 0400, owned by the container's uid/gid, the directory still
 * traversable, the content from stdin only (never on the command line).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileCommand } from "../../components/compose/remote";

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "secret-files-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isRoot = process.getuid?.() === 0;

(isRoot ? test : test.skip)(
  "writes 0400 owned by the reading container, in a 0755 directory (runs as root)",
  () => {
    const path = join(dir, "alertmanager", "secrets", "ntfy.bearer");
    const cmd = writeFileCommand(path, "0400", { uid: 65534, gid: 65534 });
    expect(cmd).not.toContain("s3cr3t");
    const r = spawnSync("sh", ["-c", cmd], { input: "s3cr3t-token", encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    const st = statSync(path);
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o400, 65534, 65534]);
    expect(statSync(join(dir, "alertmanager", "secrets")).mode & 0o777).toBe(0o755);
    expect(readFileSync(path, "utf8")).toBe("s3cr3t-token");
  },
);

test("plain config files stay 0644 without an owner change", () => {
  const path = join(dir, "prometheus", "prometheus.yml");
  const r = spawnSync("sh", ["-c", writeFileCommand(path, "0644")], {
    input: "global: {}\n",
    encoding: "utf8",
  });
  expect(r.status).toBe(0);
  expect(statSync(path).mode & 0o777).toBe(0o644);
});
