import type { ReachabilityReport } from "./report";

export const POLICY_ID = "default-deny";

/** Same shape as policies/run.ts's Violation; findings are about the stack, so no resource URN. */
export interface ReachabilityViolation {
  policy: string;
  level: "mandatory" | "advisory";
  message: string;
  resource: null;
}

/**
 * Findings that fail the plan. All are computed from the compiled rules, so they hold for what would
 * be deployed: an any-to-any allow, a source outside management/tunnel reaching management, and any
 * traffic the rules allow that no intent names (a compiler bug by definition).
 */
export function reachabilityViolations(r: ReachabilityReport): ReachabilityViolation[] {
  const v = (level: ReachabilityViolation["level"], message: string): ReachabilityViolation => ({
    policy: POLICY_ID,
    level,
    message,
    resource: null,
  });
  const out: ReachabilityViolation[] = [];
  for (const a of r.anyToAny)
    out.push(v("mandatory", `any-to-any allow in rule ${a.rule}: ${a.description}`));

  const bySource = new Map<string, { dsts: string[]; rules: Set<string> }>();
  for (const e of r.managementExposure) {
    const g = bySource.get(e.source) ?? { dsts: [], rules: new Set<string>() };
    g.dsts.push(`${e.destination} (${e.traffic})`);
    e.rules.forEach((x) => g.rules.add(x));
    bySource.set(e.source, g);
  }
  for (const [source, g] of bySource)
    out.push(
      v(
        "mandatory",
        `${source} reaches management: ${g.dsts.join(", ")} via ${[...g.rules].join(", ")}; only management itself and the WireGuard tunnel may`,
      ),
    );

  for (const d of r.differences.filter((x) => x.kind === "allowed"))
    out.push(
      v(
        "mandatory",
        `compiled rules allow ${d.source} → ${d.destination}: ${d.traffic}, which no intent names (rules ${d.rules.join(", ")})`,
      ),
    );
  for (const d of r.differences.filter((x) => x.kind === "denied"))
    out.push(
      v("advisory", `intended ${d.source} → ${d.destination}: ${d.traffic} is denied by the compiled rules`),
    );
  for (const u of r.unsafeIntents.filter((x) => x.kind === "missing-reason"))
    out.push(v("mandatory", u.message));
  return out;
}
