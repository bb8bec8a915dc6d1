import { compileFirewall, type CompiledFirewall, type FilterRule } from "../../analysis/firewall";
import {
  analyzeReachability,
  findUnsafeIntents,
  ipToInt,
  reachabilityViolations,
  renderMarkdown,
  renderText,
  RuleEvaluator,
  toJson,
} from "../../analysis/reachability";
import type { NetworkModel } from "../../model";
import { flow, referenceModel } from "./support";

/** The index an appended flow gets: the reference config's flow count. */
const NEXT = referenceModel().config.flows.length;

const cell = (model: NetworkModel, row: string, column: string) =>
  analyzeReachability(model, compileFirewall(model)).matrix.cells[row]![column]!;

describe("reachability analyzer (reference config)", () => {
  const model = referenceModel();
  const fw = compileFirewall(model);
  const report = analyzeReachability(model, fw);
  const at = (row: string, column: string) => report.matrix.cells[row]![column]!;

  it("finds the compiled rules allow exactly what the intents name", () => {
    expect(report.differences).toEqual([]);
    expect(report.managementExposure).toEqual([]);
    expect(report.anyToAny).toEqual([]);
    expect(reachabilityViolations(report)).toEqual([]);
  });

  it("denies management to everything but management itself and the tunnel", () => {
    for (const row of ["trusted", "iot", "cameras", "guest", "wan"])
      expect(at(row, "segment:management").status).toBe("deny");
    expect(at("wireguard", "segment:management")).toMatchObject({
      status: "allow",
      rules: ["wireguard/flow-11"],
    });
    // The controller (a declared servers host) adopts switches, the IDS alert job reads the gateway's
    // API and Prometheus on the storage node scrapes the gateway's exporter; the rest of servers
    // reaches nothing in management.
    expect(at("servers", "segment:management")).toMatchObject({
      status: "partial",
      summary:
        "network-node → gateway: tcp 22,443,8080 | network-node → storage-mgmt,(other): tcp 22,8080 | storage-node → gateway: tcp 9100",
    });
  });

  it("shows services, the internet and the WAN as the flows say", () => {
    expect(at("trusted", "service:haproxy")).toMatchObject({ status: "allow", summary: "tcp 443" });
    expect(at("iot", "service:home-assistant").status).toBe("allow");
    expect(at("iot", "service:grafana").status).toBe("deny");
    expect(at("iot", "internet")).toMatchObject({ status: "partial", summary: "tcp 443" });
    expect(at("cameras", "internet").status).toBe("deny");
    expect(at("guest", "internet").status).toBe("allow");
    expect(at("guest", "segment:servers").status).toBe("deny");
    expect(at("wan", "service:haproxy").status).toBe("allow");
    expect(at("wan", "service:grafana").status).toBe("deny");
    expect(at("wan", "segment:servers")).toMatchObject({ summary: "* → network-node: tcp 80,443" });
    expect(at("servers", "service:grafana").status).toBe("local");
  });

  it("renders a text matrix, a markdown table and JSON", () => {
    const text = renderText(report);
    expect(text).toMatch(
      /destination \\ source\s+management\s+servers\s+trusted\s+iot\s+cameras\s+guest\s+wireguard\s+wan/,
    );
    expect(text).toMatch(/segment:management\s+◐\s+◐\s+·\s+·\s+·\s+·\s+✓\s+·/);
    expect(text).toContain("The compiled rules allow exactly what the intents name");
    const md = renderMarkdown(report);
    expect(md).toContain("| source | `segment:management` |");
    expect(md).toMatch(/\| \*\*wireguard\*\* \| ✅ all \|/);
    const json = toJson(report) as {
      consistent: boolean;
      matrix: Record<string, Record<string, { status: string }>>;
      unlistedCells: { status: string };
    };
    expect(json.consistent).toBe(true);
    // Denied cells are the unlisted ones: the JSON lists what is reachable.
    expect(json.matrix["iot"]!["segment:management"]).toBeUndefined();
    expect(json.unlistedCells.status).toBe("deny");
    expect(json.matrix["wireguard"]!["segment:management"]!.status).toBe("allow");
  });
});

describe("reachability analyzer against broken rule sets", () => {
  const model = referenceModel();
  const fw = compileFirewall(model);
  const edit = (f: (r: FilterRule) => FilterRule): CompiledFirewall => ({ ...fw, rules: fw.rules.map(f) });

  it("reports traffic no intent names when 'not private' loses its negation (the compiler check)", () => {
    const broken = edit((r) => (r.id === "iot/flow-4" ? { ...r, destinationNot: false } : r));
    const report = analyzeReachability(model, broken);
    expect(
      report.differences.some(
        (d) => d.kind === "allowed" && d.source.startsWith("iot/") && d.rules.includes("iot/flow-4"),
      ),
    ).toBe(true);
    const violations = reachabilityViolations(report);
    expect(violations.some((v) => v.level === "mandatory" && /which no intent names/.test(v.message))).toBe(
      true,
    );
  });

  it("reports intents the rules do not honour when the block is moved before the allows", () => {
    const broken = edit((r) => (r.id === "iot/default-deny" ? { ...r, sequence: 1 } : r));
    const report = analyzeReachability(model, broken);
    expect(report.differences.filter((d) => d.kind === "denied").map((d) => d.source)).toContain(
      "iot/(other)",
    );
    expect(report.matrix.cells["iot"]!["service:home-assistant"]!.status).toBe("deny");
  });

  it("flags an alias whose content drifted", () => {
    const broken = {
      ...fw,
      aliases: fw.aliases.map((a) => (a.name === "net_management" ? { ...a, content: ["10.0.0.0/16"] } : a)),
    };
    const report = analyzeReachability(model, broken);
    // wireguard → "management" now also covers every other segment.
    expect(report.differences.some((d) => d.kind === "allowed" && d.source.startsWith("wireguard/"))).toBe(
      true,
    );
  });
});

describe("first-match evaluation", () => {
  const model = referenceModel();
  const fw = compileFirewall(model);
  const evaluator = new RuleEvaluator(fw, () => undefined);
  const packet = (src: string, dst: string, port: number) => ({
    iface: { kind: "segment" as const, segment: "iot" },
    src: ipToInt(src),
    dst: ipToInt(dst),
    protocol: "tcp" as const,
    port,
  });

  it("returns the first matching rule", () => {
    expect(evaluator.evaluate(packet("10.0.40.5", "10.0.20.2", 8123)).rule?.id).toBe("iot/flow-6");
    expect(evaluator.evaluate(packet("10.0.40.5", "10.0.20.2", 8124))).toMatchObject({
      action: "block",
      rule: { id: "iot/default-deny" },
    });
    expect(evaluator.evaluate(packet("10.0.40.5", "8.8.8.8", 443)).rule?.id).toBe("iot/flow-4");
    expect(evaluator.evaluate(packet("10.0.40.5", "192.168.1.1", 443)).rule?.id).toBe("iot/default-deny");
  });

  it("refuses a rule naming an alias that does not exist", () => {
    const broken = { ...fw, aliases: fw.aliases.filter((a) => a.name !== "host_network_node") };
    expect(() =>
      new RuleEvaluator(broken, () => undefined).evaluate(packet("10.0.40.5", "10.0.20.2", 8123)),
    ).toThrow(/undefined alias host_network_node/);
  });
});

describe("unsafe intents", () => {
  const kinds = (model: NetworkModel) => findUnsafeIntents(model).map((u) => `${u.kind}:${u.flow}`);

  it("finds none in the reference config", () => {
    expect(findUnsafeIntents(referenceModel())).toEqual([]);
  });

  it("flags any-to-any and its exposure of management", () => {
    const model = referenceModel((raw) => raw.flows.push(flow("any", "any", { protocol: "any" })));
    expect(kinds(model)).toEqual([`any-to-any:${NEXT}`, `management-exposure:${NEXT}`]);
    const violations = reachabilityViolations(analyzeReachability(model, compileFirewall(model)));
    expect(violations.filter((v) => /any-to-any allow/.test(v.message))).toHaveLength(7);
    expect(violations.every((v) => v.policy === "default-deny")).toBe(true);
  });

  it.each([
    ["segment:iot", "segment:management"],
    ["segment:cameras", "host:storage-mgmt"],
    ["segment:guest", "segment:management"],
    ["segment:trusted", "segment:management"],
    ["segment:servers", "segment:management"],
  ])("flags %s → %s, and the compiled rules expose management", (from, to) => {
    const model = referenceModel((raw) => raw.flows.push(flow(from, to, { ports: [443] })));
    expect(kinds(model)).toEqual([`management-exposure:${NEXT}`]);
    const report = analyzeReachability(model, compileFirewall(model));
    expect(report.managementExposure.length).toBeGreaterThan(0);
    expect(
      reachabilityViolations(report).some(
        (v) => v.level === "mandatory" && /reaches management/.test(v.message),
      ),
    ).toBe(true);
    expect(cell(model, from.slice("segment:".length), "segment:management").status).not.toBe("deny");
  });

  it("allows management, the tunnel and a declared servers host", () => {
    const model = referenceModel((raw) =>
      raw.flows.push(
        flow("host:storage-node", "host:storage-mgmt", { ports: [8006] }),
        flow("wireguard", "segment:management"),
      ),
    );
    expect(findUnsafeIntents(model)).toEqual([]);
    expect(analyzeReachability(model, compileFirewall(model)).managementExposure).toEqual([]);
  });

  it("flags a flow without a reason and an ingress host inside management", () => {
    const model = referenceModel((raw) => {
      raw.hosts.push({ name: "edge", segment: "management", address: "10.0.10.20" });
      raw.ingress.host = "edge";
    });
    model.flows[0]!.reason = " ";
    expect(kinds(model)).toEqual(["missing-reason:0", "published-management:null"]);
    const violations = reachabilityViolations(analyzeReachability(model, compileFirewall(model)));
    expect(violations.some((v) => v.message.startsWith("wan/internet reaches management"))).toBe(true);
    expect(violations.some((v) => /has no reason/.test(v.message))).toBe(true);
  });
});
