export { analyzeReachability } from "./analyze";
export {
  isAnyToAny,
  type Cell,
  type CellStatus,
  type Difference,
  type Exposure,
  type Matrix,
  type ReachabilityReport,
} from "./report";
export { RuleEvaluator, type RuleMatcher, type Verdict } from "./evaluate";
export { intentsOf, type Intent } from "./intents";
export { IpSet } from "./ip-set";
export { ipToInt, type Packet, type PacketProtocol } from "./packet";
export { isSummarised, renderMarkdown, renderText, toJson, UNLISTED_CELL } from "./render";
export { clearSharedReachability, reachabilityKey, sharedAnalysisStats, sharedReachability } from "./shared";
export { findUnsafeIntents, mayReachManagement, touchesManagement, type UnsafeIntent } from "./unsafe";
export { reachabilityViolations } from "./violations";
