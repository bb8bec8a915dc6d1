import * as https from "node:https";
import { isIP } from "node:net";
import * as tls from "node:tls";

/**
 * One HTTPS exchange with a Proxmox Backup Server whose certificate is pinned by its SHA-256
 * fingerprint. PBS's self-signed certificate names only localhost, 127.0.0.1, ::1 and the node name
 * (proxmox/proxmox-backup src/config/mod.rs create_self_signed_cert), so neither the system CAs nor
 * the host name can vouch for it; Proxmox VE pins the fingerprint for the same reason. The TLS
 * connection is opened first and the fingerprint compared before a single byte of the request (with
 * its Authorization header) is written; a mismatch is never retried.
 */
export interface PinnedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** "AB:CD:…" (any case). */
  fingerprint: string;
}

export interface PinnedResponse {
  status: number;
  text: string;
}

export const normalizeFingerprint = (f: string): string => f.trim().toUpperCase();

export function pinnedRequest(req: PinnedRequest): Promise<PinnedResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    if (url.protocol !== "https:")
      return reject(new Error(`${url.protocol}//${url.host}: the PBS API is only spoken over https`));
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port || 8007);
    let settled = false;
    // A holder, not a `let` declared after its use: the closure serializer needs it declared first.
    const pending: { timer?: ReturnType<typeof setTimeout> } = {};
    const done = (f: () => void) => {
      if (settled) return;
      settled = true;
      if (pending.timer !== undefined) clearTimeout(pending.timer);
      f();
    };
    const socket = tls.connect({
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      // The chain cannot be verified (self-signed); the pin below is the check.
      rejectUnauthorized: false,
    });
    pending.timer = setTimeout(() => {
      socket.destroy(
        Object.assign(new Error(`no answer from ${url.host} within ${req.timeoutMs} ms`), {
          code: "ETIMEDOUT",
        }),
      );
    }, req.timeoutMs);
    socket.once("error", (e) => done(() => reject(e)));
    socket.once("secureConnect", () => {
      const got = socket.getPeerX509Certificate()?.fingerprint256;
      const want = normalizeFingerprint(req.fingerprint);
      if (got === undefined || normalizeFingerprint(got) !== want) {
        socket.destroy();
        return done(() =>
          reject(
            Object.assign(
              new Error(
                `the certificate of ${url.host} has SHA-256 fingerprint ${got ?? "(none)"}, not the pinned ${want}; nothing was sent. If the certificate was replaced on purpose, update homelab:proxmox.backupServer.fingerprint`,
              ),
              { code: "EPINNED" },
            ),
          ),
        );
      }
      const headers: Record<string, string | number> = { ...req.headers, Host: url.host };
      if (req.body !== undefined) headers["Content-Length"] = Buffer.byteLength(req.body);
      const r = https.request(
        {
          method: req.method,
          host,
          port,
          path: `${url.pathname}${url.search}`,
          headers,
          createConnection: () => socket,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            done(() =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
            ),
          );
          res.on("error", (e) => done(() => reject(e)));
        },
      );
      r.on("error", (e) => done(() => reject(e)));
      if (req.body !== undefined) r.write(req.body);
      r.end();
    });
  });
}
