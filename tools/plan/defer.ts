// Imported first by tools/plan.ts, before anything loads @pulumi/pulumi or builds a schema: start-up
// settings for a process that evaluates the program once.
import { z } from "zod";
import { deferUnusedPulumiModules } from "./lazy-modules";

deferUnusedPulumiModules();
// A plan parses each config schema about once: building zod's compiled (eval) parsers costs more than
// it saves (~0.1 s per plan). Tests, which parse thousands of configs, keep them.
z.config({ jitless: true });
