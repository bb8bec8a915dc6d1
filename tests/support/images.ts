import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aptInstall, must, run } from "./proc";

const BUSYBOX = "/bin/busybox";
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

/** Debian's busybox-static is one self-contained binary: a whole image with no registry and no pull. */
function staticBusybox(): string {
  const isStatic = () => existsSync(BUSYBOX) && run("ldd", [BUSYBOX]).code !== 0;
  if (!isStatic()) aptInstall(["busybox-static"]);
  if (!isStatic()) throw new Error(`${BUSYBOX} is missing or not static: apt-get install busybox-static`);
  return BUSYBOX;
}

/**
 * A tiny local image built with `docker import` from a busybox rootfs (sh, wget, nc, httpd, ...).
 * Returns its image ID (sha256:…), which the renderer accepts as a pin: content-addressed like a digest.
 * Built once per busybox binary and reused (serialized with flock across parallel test files).
 */
export function busyboxImage(): { id: string; tag: string } {
  const bin = staticBusybox();
  const sum = createHash("sha256").update(readFileSync(bin)).digest("hex").slice(0, 12);
  const tag = `homelab-test/busybox:${sum}`;
  const existing = () => run("docker", ["image", "inspect", tag, "--format", "{{.Id}}"]).stdout.trim();
  if (!existing()) {
    const root = mkdtempSync(join(tmpdir(), "homelab-rootfs-"));
    try {
      for (const d of ["bin", "www", "tmp", "data", "etc"]) mkdirSync(join(root, d));
      writeFileSync(join(root, "bin", "busybox"), readFileSync(bin), { mode: 0o755 });
      for (const a of APPLETS) symlinkSync("busybox", join(root, "bin", a));
      writeFileSync(join(root, "www", "index.html"), "homelab test image\n");
      writeFileSync(
        join(root, "etc", "passwd"),
        "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n",
      );
      must(
        "flock",
        [
          "/tmp/homelab-test-image.lock",
          "sh",
          "-c",
          `docker image inspect '${tag}' >/dev/null 2>&1 || tar -C '${root}' -c . | ` +
            `docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - '${tag}' >/dev/null`,
        ],
        { timeoutMs: 60_000 },
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const id = existing();
  if (!/^sha256:[a-f0-9]{64}$/.test(id)) throw new Error(`image ${tag} was not built`);
  return { id, tag };
}
