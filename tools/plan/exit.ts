import { ConfigError, StackFileError } from "../../model";
import { USAGE, UsageError } from "./usage";

/** An input the user can fix (a --baseline or --policy-config file): exit 2, one message, no stack trace. */
export class InputError extends Error {
  readonly exitCode = 2;
}

/**
 * Exit code and message of a failed plan. Mistakes in input (usage, stack file, config) are 2 with a
 * message that names the file:line:column or the config path; anything else is a bug (3), with its stack.
 */
export function failure(e: unknown): { code: 2 | 3; message: string } {
  if (e instanceof UsageError) return { code: 2, message: `error: ${e.message}\n\n${USAGE}` };
  if (e instanceof ConfigError || e instanceof StackFileError || e instanceof InputError)
    return { code: 2, message: `error: ${e.message}\n` };
  if ((e as { exitCode?: unknown } | null)?.exitCode === 2)
    return { code: 2, message: `error: ${(e as Error).message}\n` };
  const trace = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return { code: 3, message: `plan failed (a bug in homelab, not in your config):\n${trace}\n` };
}
