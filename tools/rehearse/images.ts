/**
 * Container images for the rehearsal, built here (no registry can be reached) and imported into each
 * host's own dockerd with `docker import`. Where Debian ships the real server, the image runs it:
 *
 * - haproxy: Debian's /usr/sbin/haproxy laid out like docker-library/haproxy 3.0/alpine/Dockerfile
 *   (binary in /usr/local/sbin, user haproxy uid/gid 99, WORKDIR /var/lib/haproxy (its STOPSIGNAL
 *   SIGUSR1 cannot be given to `docker import`),
 *   ENTRYPOINT docker-entrypoint.sh, CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]); its
 *   entrypoint behaves like that repository's docker-entrypoint.sh (a first argument starting with "-"
 *   gets "haproxy" prepended; "haproxy" gets "-W -db").
 * - prometheus: Debian's /usr/bin/prometheus laid out like prometheus/prometheus Dockerfile
 *   (/bin/prometheus, ENTRYPOINT /bin/prometheus, CMD --config.file=/etc/prometheus/prometheus.yml
 *   --storage.tsdb.path=/prometheus, WORKDIR /prometheus, USER nobody) on busybox, as upstream's
 *   quay.io/prometheus/busybox base (its healthcheck uses busybox wget).
 * - node-exporter: Debian's prometheus-node-exporter as prometheus/node_exporter Dockerfile lays it
 *   out (/bin/node_exporter, ENTRYPOINT /bin/node_exporter, USER nobody, busybox base).
 * - alertmanager: Debian's prometheus-alertmanager (0.25 in bookworm) laid out like prometheus/alertmanager
 *   v0.34.0 Dockerfile (busybox base; /bin/alertmanager and /bin/amtool; /etc/alertmanager and
 *   /alertmanager owned by nobody; USER nobody, EXPOSE 9093, WORKDIR /alertmanager, ENTRYPOINT
 *   /bin/alertmanager, CMD --config.file=/etc/alertmanager/alertmanager.yml --storage.path=/alertmanager).
 * - immich-postgres: Debian's PostgreSQL 15 server binaries with a STAND-IN entrypoint that does what
 *   docker-library/postgres's does for this service (initdb as POSTGRES_USER with POSTGRES_PASSWORD
 *   and POSTGRES_INITDB_ARGS into PGDATA=/var/lib/postgresql/data, create POSTGRES_DB, run postgres
 *   listening on all addresses). Immich's image is PostgreSQL 14 with vector extensions: the server,
 *   its uid and where it writes are what the rehearsal needs.
 *
 * Every other service is a STAND-IN: busybox serving HTTP on the service's ports, writing a marker into
 * every dataset it mounts read-write (where the real image writes) at start and failing if it cannot,
 * and answering the preset's healthcheck command (a stand-in script of the same name probing its port).
 * The compose file's `user:` decides the uid each runs as: the preset's real one.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { ComposeService } from "../../model";
import { must, sh } from "./hosts";
import { busyboxRoot, importRootfs, type Importer } from "./rootfs";

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
  "false",
  "touch",
  "rm",
  "printf",
  "grep",
  "sed",
  "tr",
  "head",
  "date",
  "hostname",
  "kill",
  "stat",
  "cut",
  "basename",
  "dirname",
  "ps",
  "chmod",
];

export interface ImageRecipe {
  /** What the image is: "real <binary>" or "stand-in". */
  kind: string;
  build(root: string, svc: ComposeService): { changes: string[] };
}

function base(root: string, users: [string, number, number][]): void {
  for (const d of ["bin", "etc", "tmp", "usr/local/bin", "var/run", "standin/www"])
    mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  busyboxRoot(root, APPLETS);
  const all: [string, number, number][] = [["root", 0, 0], ["nobody", 65534, 65534], ...users];
  writeFileSync(
    join(root, "etc", "passwd"),
    all.map(([n, u, g]) => `${n}:x:${u}:${g}::/:/bin/sh`).join("\n") + "\n",
  );
  writeFileSync(join(root, "etc", "group"), all.map(([n, , g]) => `${n}:x:${g}:`).join("\n") + "\n");
  writeFileSync(join(root, "etc", "hosts"), "127.0.0.1 localhost\n");
}

/** Copies a binary and every shared library it loads (ldd), at their own paths. */
function copyWithLibs(root: string, src: string, dest = src): void {
  const put = (from: string, to: string) => {
    const target = join(root, to);
    if (existsSync(target)) return;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(realpathSync(from), target);
    chmodSync(target, 0o755);
  };
  put(src, dest);
  const out = sh("ldd", [src]).stdout;
  for (const line of out.split("\n")) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) {
      put(m[1], m[1]);
      // The loader is looked up by its /lib64 name.
      if (m[1].includes("ld-linux")) put(m[1], "/lib64/ld-linux-x86-64.so.2");
    }
  }
}

const need = (path: string, pkg: string) => {
  if (!existsSync(path))
    throw new Error(`${path} is missing: apt-get install ${pkg} (the rehearsal runs the real server)`);
};

const haproxy: ImageRecipe = {
  kind: "real haproxy (Debian)",
  build(root) {
    need("/usr/sbin/haproxy", "haproxy");
    base(root, [["haproxy", 99, 99]]);
    copyWithLibs(root, "/usr/sbin/haproxy", "/usr/local/sbin/haproxy");
    mkdirSync(join(root, "var/lib/haproxy"), { recursive: true });
    mkdirSync(join(root, "usr/local/etc/haproxy"), { recursive: true });
    sh("chown", ["99:99", join(root, "var/lib/haproxy")]);
    writeFileSync(
      join(root, "usr/local/bin/docker-entrypoint.sh"),
      [
        "#!/bin/sh",
        "# Behaves like docker-library/haproxy's docker-entrypoint.sh (see tools/rehearse/images.ts).",
        "set -e",
        'if [ "${1#-}" != "$1" ]; then set -- haproxy "$@"; fi',
        'if [ "$1" = haproxy ]; then shift; set -- haproxy -W -db "$@"; fi',
        'exec "$@"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return {
      changes: [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "WORKDIR /var/lib/haproxy",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        'CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
      ],
    };
  },
};

const prometheus: ImageRecipe = {
  kind: "real prometheus (Debian)",
  build(root) {
    need("/usr/bin/prometheus", "prometheus");
    base(root, []);
    copyWithLibs(root, "/usr/bin/prometheus", "/bin/prometheus");
    for (const d of ["etc/prometheus", "prometheus"]) mkdirSync(join(root, d), { recursive: true });
    sh("chown", ["65534:65534", join(root, "etc/prometheus"), join(root, "prometheus")]);
    return {
      changes: [
        "WORKDIR /prometheus",
        'ENTRYPOINT ["/bin/prometheus"]',
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]',
      ],
    };
  },
};

const nodeExporter: ImageRecipe = {
  kind: "real node-exporter (Debian)",
  build(root) {
    need("/usr/bin/prometheus-node-exporter", "prometheus-node-exporter");
    base(root, []);
    copyWithLibs(root, "/usr/bin/prometheus-node-exporter", "/bin/node_exporter");
    return { changes: ['ENTRYPOINT ["/bin/node_exporter"]'] };
  },
};

const alertmanager: ImageRecipe = {
  kind: "real alertmanager (Debian)",
  build(root) {
    need("/usr/bin/prometheus-alertmanager", "prometheus-alertmanager");
    base(root, []);
    copyWithLibs(root, "/usr/bin/prometheus-alertmanager", "/bin/alertmanager");
    if (existsSync("/usr/bin/amtool")) copyWithLibs(root, "/usr/bin/amtool", "/bin/amtool");
    // Debian's build reads its notification templates from disk (upstream embeds them): without
    // default.tmpl every config load fails and the server exits.
    mkdirSync(join(root, "usr/share/prometheus"), { recursive: true });
    must("cp", ["-a", "/usr/share/prometheus/alertmanager", join(root, "usr/share/prometheus/")]);
    for (const d of ["etc/alertmanager", "alertmanager"]) mkdirSync(join(root, d), { recursive: true });
    sh("chown", ["65534:65534", join(root, "etc/alertmanager"), join(root, "alertmanager")]);
    return {
      changes: [
        "USER nobody",
        "EXPOSE 9093",
        "WORKDIR /alertmanager",
        'ENTRYPOINT ["/bin/alertmanager"]',
        'CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]',
      ],
    };
  },
};

const PG = "/usr/lib/postgresql/15";
const postgres: ImageRecipe = {
  kind: "real postgresql 15 (Debian), stand-in entrypoint",
  build(root) {
    need(`${PG}/bin/postgres`, "postgresql-15");
    base(root, [["postgres", 999, 999]]);
    mkdirSync(join(root, "usr/lib/postgresql"), { recursive: true });
    must("cp", ["-a", PG, join(root, "usr/lib/postgresql/")], { timeoutMs: 60_000 });
    mkdirSync(join(root, "usr/share/postgresql"), { recursive: true });
    must("cp", ["-a", "/usr/share/postgresql/15", join(root, "usr/share/postgresql/")]);
    for (const b of ["postgres", "initdb", "pg_ctl", "pg_isready", "psql"])
      copyWithLibs(root, `${PG}/bin/${b}`);
    for (const lib of sh("sh", ["-c", `ls ${PG}/lib/*.so`])
      .stdout.split("\n")
      .filter(Boolean))
      copyWithLibs(root, lib);
    for (const d of ["var/run/postgresql", "var/lib/postgresql"])
      mkdirSync(join(root, d), { recursive: true });
    sh("chown", ["999:999", join(root, "var/run/postgresql"), join(root, "var/lib/postgresql")]);
    writeFileSync(
      join(root, "usr/local/bin/docker-entrypoint.sh"),
      [
        "#!/bin/sh",
        "# STAND-IN for docker-library/postgres's docker-entrypoint.sh around the real PostgreSQL server:",
        "# initialize PGDATA once (as the image's postgres user, uid 999), then run the server.",
        "set -eu",
        `export PATH=${PG}/bin:$PATH PGDATA=\${PGDATA:-/var/lib/postgresql/data}`,
        'if [ ! -s "$PGDATA/PG_VERSION" ]; then',
        '  pw=$(mktemp); printf "%s" "$POSTGRES_PASSWORD" >"$pw"',
        '  initdb --username="${POSTGRES_USER:-postgres}" --pwfile="$pw" --auth-host=scram-sha-256 --auth-local=trust --no-locale ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" >/dev/null',
        '  rm -f "$pw"',
        '  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"',
        '  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then',
        '    echo "CREATE DATABASE \\"$POSTGRES_DB\\";" | postgres --single -D "$PGDATA" postgres >/dev/null',
        "  fi",
        "fi",
        "exec postgres -D \"$PGDATA\" -c listen_addresses='*'",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    // The check the preset runs (immich-app/base-images postgres/healthcheck.sh): ready, and no page
    // has failed its checksum.
    writeFileSync(
      join(root, "usr/local/bin/healthcheck.sh"),
      [
        "#!/bin/sh",
        "# STAND-IN for immich-app/base-images postgres/healthcheck.sh, with the real pg_isready and psql.",
        'pg_isready --dbname="${POSTGRES_DB:-postgres}" --username="${POSTGRES_USER:-postgres}" || exit 1',
        'n=$(psql --dbname="${POSTGRES_DB:-postgres}" --username="${POSTGRES_USER:-postgres}" --tuples-only --no-align --command="SELECT COALESCE(SUM(checksum_failures), 0) FROM pg_stat_database")',
        '[ "$n" = 0 ]',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return {
      changes: [
        `ENV PATH=${PG}/bin:/usr/local/bin:/bin PGDATA=/var/lib/postgresql/data`,
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        'CMD ["postgres"]',
      ],
    };
  },
};

/**
 * Ports a stand-in serves besides the ones the config publishes: the ones its preset's healthcheck or
 * metrics use (upstream defaults: Immich server 2283, machine learning 3003, Ollama 11434, Authelia
 * 9091, Frigate's internal API 5000, MongoDB 27017).
 */
const STANDIN_PORTS: Record<string, number[]> = {
  "immich-server": [2283],
  "immich-machine-learning": [3003],
  ollama: [11434],
  authelia: [9091],
  frigate: [5000],
  "immich-redis": [6379],
  "unifi-db": [27017],
};

function standinPorts(svc: ComposeService): { tcp: number[]; udp: number[] } {
  const tcp = new Set<number>(STANDIN_PORTS[svc.preset ?? svc.name] ?? []);
  const udp = new Set<number>();
  for (const p of svc.ports) (p.protocol === "udp" ? udp : tcp).add(p.target);
  if (svc.metrics) tcp.add(svc.metrics.port);
  for (const w of svc.healthcheck?.test ?? []) {
    const m = /^https?:\/\/127\.0\.0\.1:(\d+)/.exec(w) ?? /127\.0\.0\.1:(\d+)/.exec(w);
    if (m) tcp.add(Number(m[1]));
  }
  return { tcp: [...tcp], udp: [...udp] };
}

/** Health commands of presets that are not busybox applets, answered by a probe of the first port. */
const STANDIN_HEALTH_COMMANDS = [
  "immich-healthcheck",
  "python3",
  "ollama",
  "authelia",
  "valkey-cli",
  "curl",
  "pg_isready",
  "haproxy",
];

const standin: ImageRecipe = {
  kind: "stand-in",
  build(root, svc) {
    base(
      root,
      svc.user
        ? [["app", Number(svc.user.split(":")[0]), Number(svc.user.split(":")[1] ?? svc.user.split(":")[0])]]
        : [],
    );
    const ports = standinPorts(svc);
    const writes = svc.volumes.filter((v) => v.dataset !== undefined && !v.readOnly).map((v) => v.target);
    for (const f of ["index.html", "manifest.json", "_ping", "metrics", "ping"])
      writeFileSync(join(root, "standin/www", f), `stand-in ${svc.name}\n`);
    // JSON, as Open WebUI's /health answers (its check pipes it through jq: `input.status == true`).
    writeFileSync(join(root, "standin/www/health"), `{"status":true}\n`);
    // A check that pipes through jq gets the real jq (Debian's, with its libraries).
    if (svc.healthcheck?.test.some((w) => /\bjq\b/.test(w))) {
      need("/usr/bin/jq", "jq");
      copyWithLibs(root, "/usr/bin/jq", "/usr/local/bin/jq");
    }
    // The UniFi Network Application's /status, which its preset's check greps for "up":true.
    writeFileSync(
      join(root, "standin/www/status"),
      `{"meta":{"rc":"ok","up":true,"server_version":"stand-in"}}\n`,
    );
    for (const d of ["api", "-"]) mkdirSync(join(root, "standin/www", d), { recursive: true });
    for (const f of ["api/health", "api/version", "-/healthy", "api/prometheus"])
      writeFileSync(join(root, "standin/www", f), `stand-in ${svc.name}\n`);
    writeFileSync(
      join(root, "standin/run"),
      [
        "#!/bin/sh",
        `# STAND-IN for ${svc.name} (homelab deploy rehearsal): writes where the real image writes, serves its ports.`,
        "set -eu",
        ...writes.map(
          (w) =>
            `printf 'written by the %s stand-in as %s\\n' ${JSON.stringify(svc.name)} "$(id -u):$(id -g)" >${JSON.stringify(`${w}/.standin-${svc.name}`)} || { echo "stand-in ${svc.name}: cannot write ${w} as $(id -u):$(id -g)" >&2; exit 1; }`,
        ),
        ...ports.tcp.map((p) => `httpd -f -p ${p} -h /standin/www &`),
        ...ports.udp.map((p) => `nc -lu -p ${p} >/dev/null 2>&1 &`),
        "trap 'exit 0' TERM INT",
        "wait",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const probe = ports.tcp[0];
    // A preset whose check is the image's own script by absolute path (Authelia's /app/healthcheck.sh)
    // gets the same probe at that path.
    // Any other command a CMD check names that the busybox base lacks (mongosh for MongoDB) gets it too.
    const own = svc.healthcheck?.test[0] === "CMD" ? svc.healthcheck.test[1] : undefined;
    const paths = STANDIN_HEALTH_COMMANDS.map((c) => join("usr/local/bin", c));
    if (own?.startsWith("/")) paths.push(own.slice(1));
    else if (own && !existsSync(join(root, "bin", own)) && !STANDIN_HEALTH_COMMANDS.includes(own))
      paths.push(join("usr/local/bin", own));
    for (const c of paths) {
      mkdirSync(join(root, dirname(c)), { recursive: true });
      writeFileSync(
        join(root, c),
        [
          "#!/bin/sh",
          `# STAND-IN for the ${basename(c)} the real ${svc.name} image ships: asks the stand-in's own port.`,
          'url=""; for a in "$@"; do case "$a" in http://*|https://*) url=$a ;; esac; done',
          `[ -n "$url" ] || url=http://127.0.0.1:${probe ?? 80}/`,
          'url=$(echo "$url" | sed "s|^https://|http://|")',
          'exec wget -q -O - "$url"',
          "",
        ].join("\n"),
        { mode: 0o755 },
      );
    }
    return { changes: ["ENV PATH=/usr/local/bin:/bin", 'ENTRYPOINT ["/standin/run"]'] };
  },
};

/** Which image each reference service gets (by preset, else by name). */
export function recipeFor(svc: ComposeService): ImageRecipe {
  switch (svc.preset ?? svc.name) {
    case "haproxy":
      return haproxy;
    case "prometheus":
      return prometheus;
    case "node-exporter":
      return nodeExporter;
    case "alertmanager":
      return alertmanager;
    case "immich-postgres":
      return postgres;
    default:
      return standin;
  }
}

/**
 * Builds the service's image and imports it through `importer` (which feeds the tar to the host's
 * `docker import`); returns the image ID, which the renderer accepts as a pin (content-addressed).
 */
export function buildImage(svc: ComposeService, importer: Importer): { id: string; kind: string } {
  const recipe = recipeFor(svc);
  const root = mkdtempSync(join(tmpdir(), "homelab-rehearsal-image-"));
  try {
    const { changes } = recipe.build(root, svc);
    const tag = `homelab-rehearsal/${svc.name}:${recipe.kind.startsWith("real") ? "real" : "stand-in"}`;
    return { id: importRootfs(root, changes, tag, importer), kind: recipe.kind };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
