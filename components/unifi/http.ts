import * as http from "node:http";
import * as https from "node:https";

/**
 * One HTTP exchange with the controller over node:http/https: redirects are never followed (the API
 * style is told by the status of GET /), a controller's own CA can be trusted for this connection only,
 * certificates are always verified, and there is one deadline for the whole exchange.
 */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  caCertificate?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const secure = url.protocol === "https:";
    if (!secure && url.protocol !== "http:") return reject(new Error(`unsupported protocol ${url.protocol}`));
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers["Content-Length"] = Buffer.byteLength(req.body);
    const options: https.RequestOptions = {
      method: req.method,
      hostname: url.hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers,
      agent: false,
      ...(secure
        ? { rejectUnauthorized: true, ...(req.caCertificate ? { ca: req.caCertificate } : {}) }
        : {}),
    };
    const request = (secure ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    const timer = setTimeout(() => {
      request.destroy(
        Object.assign(new Error(`no answer from ${url.host} within ${req.timeoutMs} ms`), {
          code: "ETIMEDOUT",
        }),
      );
    }, req.timeoutMs);
    request.on("close", () => clearTimeout(timer));
    request.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (req.body !== undefined) request.write(req.body);
    request.end();
  });
}
