import { deployNetworkStack } from "./stack-harness";

/**
 * `pulumi up` of the reference network stack in a process of its own, for runs that fail: a failed
 * resource rejects the Outputs of everything depending on it, which the Pulumi language host reports
 * as a failed program (and jest would report as failures of whatever test is running). Prints what was
 * created and the errors as JSON. Usage: node tools/run.js tests/opnsense/stack-run.ts <url> <key> <secret>
 */
async function main(): Promise<void> {
  const [url, apiKey, apiSecret] = process.argv.slice(2);
  if (!url || !apiKey || !apiSecret) throw new Error("usage: stack-run.ts <url> <apiKey> <apiSecret>");
  const d = await deployNetworkStack({ url, apiKey, apiSecret });
  // Each resource depending on a failed one repeats its error: one line per distinct message.
  const errors = [...new Map(d.errors.map((e) => [`${e.name}\n${e.message}`, e])).values()].filter(
    (e) => e.name !== "<output>",
  );
  const created = d.created.map((c) => ({ name: c.name, type: c.type, id: c.id }));
  // A pipe is written asynchronously: exit only once the line is out.
  await new Promise<void>((resolve) =>
    process.stdout.write(`${JSON.stringify({ created, errors })}\n`, () => resolve()),
  );
}

// The language host's behaviour: an unhandled rejection is a failed run, reported, not a crash here.
process.on("unhandledRejection", () => undefined);
main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  },
);
