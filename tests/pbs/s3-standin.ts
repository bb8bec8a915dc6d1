import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An S3 stand-in for the offsite-check tests, named as such: ListObjectsV2 (with continuation tokens,
 * 1000 keys a page like S3) and GetObject over path-style URLs on loopback. It does not check
 * signatures. Real S3 behaviour (moto from Debian trixie) is what the vault tests of the
 * offsite-history work use; this stand-in only serves stored bytes.
 */
export interface S3StandIn {
  endpoint: string;
  objects: Map<string, Buffer>;
  requests: string[];
  close(): Promise<void>;
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export async function startS3StandIn(bucket: string, objects: Map<string, Buffer>): Promise<S3StandIn> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://s3");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const [, b, ...rest] = url.pathname.split("/");
    if (b !== bucket) {
      res.writeHead(404, { "Content-Type": "application/xml" });
      res.end(`<Error><Code>NoSuchBucket</Code><Message>no bucket ${xml(String(b))}</Message></Error>`);
      return;
    }
    if (rest.length === 0 || (rest.length === 1 && rest[0] === "")) {
      const prefix = url.searchParams.get("prefix") ?? "";
      const start = Number(url.searchParams.get("continuation-token") ?? "0");
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      const page = keys.slice(start, start + 1000);
      const more = start + 1000 < keys.length;
      res.writeHead(200, { "Content-Type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${more}</IsTruncated>${more ? `<NextContinuationToken>${start + 1000}</NextContinuationToken>` : ""}${page
          .map(
            (k) =>
              `<Contents><Key>${xml(k)}</Key><Size>${objects.get(k)!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
          )
          .join("")}</ListBucketResult>`,
      );
      return;
    }
    const key = decodeURIComponent(rest.join("/"));
    const body = objects.get(key);
    if (!body) {
      res.writeHead(404, { "Content-Type": "application/xml" });
      res.end(
        `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${xml(key)}</Key></Error>`,
      );
      return;
    }
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    objects,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
