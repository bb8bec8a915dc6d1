import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../model";
import { readPackConfig } from "../../policies/config";
import { ROOT } from "../fixtures/reference";

function configFile(json: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), "pack-config-")), "storage.json");
  writeFileSync(path, typeof json === "string" ? json : JSON.stringify(json));
  return path;
}

const problems = (json: unknown): string => {
  try {
    readPackConfig(configFile(json));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected the config to be refused");
};

describe("policies/config/<stack>.json", () => {
  it("reads both reference files with their settings", () => {
    const storage = readPackConfig(join(ROOT, "policies", "config", "storage.json"));
    expect(storage.config["container-devices"]).toEqual({
      allowedDevices: [{ service: "ollama", path: "/dev/dri" }],
    });
    expect(readPackConfig(join(ROOT, "policies", "config", "network.json")).config).toHaveProperty(
      "container-devices",
    );
  });

  it("refuses an unknown rule or setting with a did-you-mean, instead of ignoring it", () => {
    expect(problems({ "container-device": { allowedDevices: [] } })).toContain(
      'container-device: is not a rule of the pack (did you mean "container-devices"?)',
    );
    expect(problems({ "container-devices": { allowedDevice: [] } })).toContain(
      'container-devices.allowedDevice: is not a setting of container-devices (did you mean "allowedDevices"?)',
    );
    expect(problems({ "container-healthcheck": { socketProxyServices: [] } })).toContain(
      "container-healthcheck.socketProxyServices: container-healthcheck has no settings (only enforcementLevel)",
    );
  });

  it("refuses settings of the wrong shape and levels that are not levels", () => {
    const msg = problems({
      "container-devices": { allowedDevices: [{ path: "/dev/dri" }] },
      "container-host-paths": { serviceHostPaths: [{ service: "x", path: "relative" }] },
      "default-deny": "off",
    });
    expect(msg).toContain("container-devices.allowedDevices.0.service:");
    expect(msg).toContain("container-host-paths.serviceHostPaths.0.path: must be an absolute host path");
    expect(msg).toContain("default-deny: must be one of advisory, mandatory, remediate, disabled");
    expect(problems("{ not json")).toContain("is not JSON");
  });

  it("applies `all` to every rule that sets no level of its own", () => {
    const cfg = readPackConfig(configFile({ all: "advisory", "container-devices": "mandatory" }));
    expect(cfg.enforcement["container-healthcheck"]).toBe("advisory");
    expect(cfg.enforcement["container-devices"]).toBe("mandatory");
  });
});
