// The CrossGuard entry point: `pulumi preview --policy-pack policies`. Only builds the pack: constructing
// a PolicyPack starts the analyzer's gRPC server, so nothing else may import this module.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./registry";

new PolicyPack("homelab", { enforcementLevel: "mandatory", policies });
