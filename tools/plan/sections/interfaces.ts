import type { NetworkModel } from "../../../model";
import type { PlanAnalysis } from "../analyses";
import { compileFirewall } from "../../../analysis/firewall/compile";
import {
  interfaceBindings,
  renderBindingsMarkdown,
  renderBindingsText,
} from "../../../analysis/firewall/interfaces";

/** Plan report section: which OPNsense interface each segment's rules are written on. */
export const interfaceBindingAnalysis: PlanAnalysis = {
  id: "opnsenseInterfaces",
  title: "OPNsense interfaces",
  stacks: ["network"],
  run(ctx) {
    const model = ctx.model as NetworkModel;
    const rows = interfaceBindings(model, compileFirewall(model));
    return { json: rows, text: renderBindingsText(rows), markdown: renderBindingsMarkdown(rows) };
  },
};
