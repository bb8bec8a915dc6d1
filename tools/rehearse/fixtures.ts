// node tools/run.js tools/rehearse/fixtures.ts gateway --listen <addr:port> --cert <pem> --key <pem>
//   --credentials <json {apiKey, apiSecret}> --control <port>
// node tools/run.js tools/rehearse/fixtures.ts webhook --listen <addr:port> --out <file>
//
// What stands in for the world outside the two rehearsal hosts, each started by the rehearsal inside the
// namespace whose address it answers on (tools/rehearse/rehearsal.ts):
// - gateway: the DOUBLE of the OPNsense API (tests/opnsense/double.ts, built from opnsense/core 26.7)
//   behind TLS on the gateway's management address, with the IDS alert job's key and only the privilege
//   its docs ask for (Services: Intrusion Detection, `page-services-ids`). A control port on the router's
//   loopback appends Suricata alerts, as Suricata would write them to eve.json.
// - webhook: a local receiver of Alertmanager's webhook notifications; each request becomes one JSON line
//   ({ authorization, body }) in --out.
// Prints "ready" on stdout when listening; stops on SIGTERM.
import { appendFileSync, readFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { parseArgs } from "node:util";
import { startDouble, type EveAlert } from "../../tests/opnsense/double";

const hostPort = (s: string): [string, number] => {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i), Number(s.slice(i + 1))];
};
const listen = (server: http.Server, addr: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const [host, port] = hostPort(addr);
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });

async function gateway(v: Record<string, string | undefined>): Promise<() => Promise<void>> {
  const creds = JSON.parse(readFileSync(v["credentials"]!, "utf8")) as { apiKey: string; apiSecret: string };
  const d = await startDouble({
    version: "26.7",
    apiKey: creds.apiKey,
    apiSecret: creds.apiSecret,
    // docs/ids.md: the alert job's user has only "Services: Intrusion Detection".
    privileges: ["page-services-ids"],
  });
  const upstream = new URL(d.url);
  // TLS in front of the double, as the gateway serves its API (the stack pins the CA).
  const front = https.createServer(
    { cert: readFileSync(v["cert"]!), key: readFileSync(v["key"]!) },
    (req, res) => {
      const p = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      p.on("error", () => res.writeHead(502).end());
      req.pipe(p);
    },
  );
  await listen(front, v["listen"]!);
  // POST /alert {EveAlert}: appended to eve.json; GET /calls: the paths the double was asked, in order.
  const control = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      if (req.method === "POST" && req.url === "/alert") {
        d.alert(JSON.parse(body.toString("utf8")) as EveAlert);
        res.writeHead(204).end();
      } else if (req.url === "/calls") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(d.calls.map((c) => ({ path: c.path, status: c.status }))));
      } else res.writeHead(404).end();
    });
  });
  await listen(control, `127.0.0.1:${v["control"]}`);
  return async () => {
    front.close();
    control.close();
    await d.close();
  };
}

async function webhook(v: Record<string, string | undefined>): Promise<() => Promise<void>> {
  const out = v["out"]!;
  const server = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      let parsed: unknown = body.toString("utf8");
      try {
        parsed = JSON.parse(parsed as string);
      } catch {
        /* recorded as text */
      }
      appendFileSync(
        out,
        `${JSON.stringify({ path: req.url, authorization: req.headers.authorization ?? null, body: parsed })}\n`,
      );
      res.writeHead(200).end("ok");
    });
  });
  await listen(server, v["listen"]!);
  return () => new Promise((resolve) => server.close(() => resolve()));
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      listen: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      credentials: { type: "string" },
      control: { type: "string" },
      out: { type: "string" },
    },
  });
  const stop =
    kind === "gateway"
      ? await gateway(values)
      : kind === "webhook"
        ? await webhook(values)
        : (() => {
            throw new Error(`unknown fixture ${kind} (gateway, webhook)`);
          })();
  process.stdout.write("ready\n");
  process.on("SIGTERM", () => void stop().then(() => process.exit(0)));
}

main().catch((e) => {
  process.stderr.write(`rehearsal fixture failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(2);
});
