import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellQuote } from "../../analysis/text/shell";
import {
  BUSYBOX,
  busyboxRoot,
  dockerImportCommand,
  importRootfs,
  isStaticBusybox,
} from "../../tools/rehearse/rootfs";
import { aptInstall, must, run } from "./proc";

const APPLETS = [
  "sh",
  "wget",
  "nc",
  "httpd",
  "env",
  "cat",
  "echo",
  "sleep",
  "ls",
  "mkdir",
  "id",
  "test",
  "true",
  "nslookup",
];

/**
 * A tiny local image built with `docker import` from a busybox rootfs (sh, wget, nc, httpd, ...), by the
 * rehearsal's builder (tools/rehearse/rootfs.ts). Returns its image ID (sha256:…), which the renderer
 * accepts as a pin: content-addressed like a digest. Built once per busybox binary and reused (the import
 * serialized with flock across parallel test files).
 */
export function busyboxImage(): { id: string; tag: string } {
  if (!isStaticBusybox()) aptInstall(["busybox-static"]);
  const sum = createHash("sha256").update(readFileSync(BUSYBOX)).digest("hex").slice(0, 12);
  const tag = `homelab-test/busybox:${sum}`;
  const existing = () => run("docker", ["image", "inspect", tag, "--format", "{{.Id}}"]).stdout.trim();
  const built = existing();
  if (built) return { id: built, tag };
  const root = mkdtempSync(join(tmpdir(), "homelab-rootfs-"));
  try {
    for (const d of ["www", "tmp", "data", "etc"]) mkdirSync(join(root, d));
    busyboxRoot(root, APPLETS);
    writeFileSync(join(root, "www", "index.html"), "homelab test image\n");
    writeFileSync(
      join(root, "etc", "passwd"),
      "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n",
    );
    const id = importRootfs(root, ["ENV PATH=/bin", 'CMD ["/bin/sh"]'], tag, (tar, changes, tag) => {
      // Another test file may be importing the same tag: the first one imports, the others find it
      // (and drain the tar they were given).
      must(
        "flock",
        [
          "/tmp/homelab-test-image.lock",
          "sh",
          "-c",
          `if docker image inspect ${shellQuote(tag)} >/dev/null 2>&1; then cat >/dev/null; ` +
            `else ${dockerImportCommand(changes, tag)} >/dev/null; fi`,
        ],
        { input: tar, timeoutMs: 60_000 },
      );
      return existing();
    });
    return { id, tag };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
