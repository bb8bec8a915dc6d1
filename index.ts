// Entry point for `pulumi up`: the stack name (network | storage) picks the slice; see program.ts.
import { main } from "./program";

export = main;
