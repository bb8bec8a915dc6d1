import { createServer } from "node:net";

/**
 * A loopback port that was free a moment ago, for a server that binds it itself (HAProxy, sshd, moto,
 * Prometheus take a port, not a socket), so it cannot be given port 0.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}
