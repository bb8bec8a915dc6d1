export * from "./types";
export { compileFirewall, privateNets } from "./compile";
export { aliasName, PRIVATE_ALIAS, TUNNEL_ALIAS } from "./names";
export { flowTraffic, toRange, RFC1918, type PortRange, type Traffic } from "./traffic";
export * from "./opnsense-body";
