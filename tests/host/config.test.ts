import { ConfigError, resolveNetwork, resolveStorage } from "../../model";
import { allSecretsSet, networkFile, rawOf, referenceContract, storageFile } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function errorsOf(stack: "network" | "storage", mutate: (raw: Raw) => void): string[] {
  const raw = rawOf(stack === "network" ? networkFile() : storageFile()) as Raw;
  mutate(raw);
  try {
    if (stack === "network") resolveNetwork(raw, allSecretsSet);
    else resolveStorage(raw, allSecretsSet, referenceContract());
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe("homelab:hostBaseline (both stacks)", () => {
  test("defaults: updates at 03:00, reboot at 04:30, a 120 s trial for a new ruleset", () => {
    const m = resolveNetwork(rawOf(networkFile()), allSecretsSet);
    expect(m.config.hostBaseline).toEqual({
      firewall: { confirmSeconds: 120, logDropped: true },
      updates: { time: "03:00", reboot: { automatic: true, time: "04:30" } },
    });
  });

  test.each(["network", "storage"] as const)(
    "%s: a reboot inside the hour after the update run is refused",
    (stack) => {
      expect(
        errorsOf(
          stack,
          (raw) => (raw["hostBaseline"] = { updates: { time: "23:30", reboot: { time: "00:15" } } }),
        ),
      ).toEqual([
        "homelab:hostBaseline.updates.reboot.time: 00:15 is within 60 minutes of the update run at 23:30: a reboot then could interrupt dpkg; pick a time at least an hour later",
      ]);
      // Without automatic reboots the time is never used.
      expect(
        errorsOf(
          stack,
          (raw) =>
            (raw["hostBaseline"] = {
              updates: { time: "23:30", reboot: { automatic: false, time: "00:15" } },
            }),
        ),
      ).toEqual([]);
    },
  );

  test("bad times, trial lengths and unknown keys name their config path", () => {
    const errors = errorsOf("storage", (raw) => {
      raw["hostBaseline"] = {
        firewall: { confirmSeconds: 10, logdropped: false },
        updates: { time: "3:00" },
      };
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^homelab:hostBaseline\.firewall\.confirmSeconds: must be at least 30/),
        expect.stringMatching(/^homelab:hostBaseline\.firewall.*logdropped/),
        expect.stringMatching(/^homelab:hostBaseline\.updates\.time: must be a time of day like 03:30/),
      ]),
    );
  });
});
