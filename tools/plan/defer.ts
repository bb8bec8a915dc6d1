// Imported first by tools/plan.ts, before anything loads @pulumi/pulumi (see lazy-modules.ts).
import { deferUnusedPulumiModules } from "./lazy-modules";

deferUnusedPulumiModules();
