import { readFileSync } from "node:fs";

/**
 * The node-preparation runbook as steps: every ```sh block of docs/runbooks/node-preparation.md in
 * order, with the heading it stands under. The rehearsal runs exactly these on its hosts, so the page
 * and what is tested cannot drift apart. ```sh set-variables blocks hold the values a person fills in
 * (the rehearsal sets the same variables itself); ```console blocks run elsewhere (the admin machine).
 */
export interface RunbookStep {
  heading: string;
  script: string;
  /** undefined: every node; else only the node whose name the heading gives ("storage node only"). */
  only?: "network" | "storage";
}

export const RUNBOOK = "docs/runbooks/node-preparation.md";

export function runbookSteps(markdown: string): { steps: RunbookStep[]; variables: string[] } {
  const steps: RunbookStep[] = [];
  const variables: string[] = [];
  let heading = "";
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) {
      heading = h[1]!.trim();
      continue;
    }
    const fence = /^```(\S*)\s*(.*)$/.exec(line);
    if (!fence) continue;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (fence[1] !== "sh") continue;
    if (fence[2]?.trim() === "set-variables") {
      for (const l of body) {
        const m = /^([A-Z_][A-Z0-9_]*)=/.exec(l);
        if (m) variables.push(m[1]!);
      }
      continue;
    }
    const only = /storage node only/i.test(heading)
      ? "storage"
      : /network node only/i.test(heading)
        ? "network"
        : undefined;
    steps.push({ heading, script: body.join("\n"), ...(only ? { only } : {}) });
  }
  return { steps, variables };
}

export const readRunbook = (root: string) => runbookSteps(readFileSync(`${root}/${RUNBOOK}`, "utf8"));
