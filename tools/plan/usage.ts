import { parseArgs } from "node:util";
import { STACKS, suggest, type StackName } from "../../model";

/** The one usage text: `--help` prints it, usage errors append it, docs/plan-cli.md quotes it (tested). */
export const USAGE = `usage: npm run plan -- --stack <network|storage> [options]

Evaluates the program offline (Pulumi's mocks: no CLI, no credentials, no network) and prints the
resource graph, the policy results and the analyses of one stack.

options:
  --stack <network|storage>   the stack to plan (required)
  --config <file>             its stack file (default: Pulumi.<stack>.yaml)
  --network-config <file>     the network stack file whose contract the storage stack reads
                              (default: Pulumi.network.yaml)
  --policy-config <file>      per-rule enforcement and settings (default: policies/config/<stack>.json)
  --json                      print the plan as JSON
  --markdown                  print the plan as the pull-request comment
  --baseline <plan.json>      with --markdown: show the change against an earlier --json plan
  --help                      print this text and exit

exit codes:
  0  planned; no mandatory policy violation
  1  planned; a mandatory policy failed (the report names rule and resource)
  2  bad usage, an unreadable stack file (file:line:column) or invalid config (config path); nothing
     was planned
  3  the program failed while it was evaluated: a bug (the message names the config path involved)
`;

/** A command line the plan cannot run: exit 2 with the message and the usage. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

export interface PlanArgs {
  stack: StackName;
  config?: string;
  networkConfig?: string;
  policyConfig?: string;
  format: "text" | "json" | "markdown";
  baseline?: string;
}

const OPTIONS = {
  stack: { type: "string" },
  config: { type: "string" },
  "network-config": { type: "string" },
  "policy-config": { type: "string" },
  json: { type: "boolean" },
  markdown: { type: "boolean" },
  baseline: { type: "string" },
  help: { type: "boolean" },
} as const;

/** `{ help: true }` for --help; otherwise the checked arguments. Throws UsageError. */
export function parsePlanArgs(argv: string[]): { help: true } | { help: false; args: PlanArgs } {
  let values: {
    [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean;
  };
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError(usageMessage(e as NodeJS.ErrnoException));
  }
  if (values.help) return { help: true };
  if (values.stack === undefined) throw new UsageError("--stack is required");
  if (!(STACKS as readonly string[]).includes(values.stack))
    throw new UsageError(
      `unknown stack "${values.stack}": this program deploys the stacks ${STACKS.join(" and ")}${suggest(values.stack, STACKS)}`,
    );
  if (values.json && values.markdown) throw new UsageError("--json and --markdown cannot be combined");
  if (values.baseline !== undefined && !values.markdown)
    throw new UsageError("--baseline only changes the --markdown report");
  if (values["network-config"] !== undefined && values.stack !== "storage")
    throw new UsageError("--network-config only applies to --stack storage");
  return {
    help: false,
    args: {
      stack: values.stack as StackName,
      ...(values.config !== undefined ? { config: values.config } : {}),
      ...(values["network-config"] !== undefined ? { networkConfig: values["network-config"] } : {}),
      ...(values["policy-config"] !== undefined ? { policyConfig: values["policy-config"] } : {}),
      ...(values.baseline !== undefined ? { baseline: values.baseline } : {}),
      format: values.json ? "json" : values.markdown ? "markdown" : "text",
    },
  };
}

/** node:util's messages, shortened to what a user needs (with "did you mean" for a misspelt option). */
function usageMessage(e: NodeJS.ErrnoException): string {
  const option = /'(-[^']*)'/.exec(e.message)?.[1];
  const names = Object.keys(OPTIONS).map((o) => `--${o}`);
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${option}'${suggest(option ?? "", names)}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument '${/'([^']*)'/.exec(e.message)?.[1]}'`;
    default:
      return e.message.charAt(0).toLowerCase() + e.message.slice(1);
  }
}
