export { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions, type ReplyDefaults } from "./fake-upstream";
export type { RecordedRequest } from "./recorded-request";
export type { ModelRequest } from "./model-request";
export type { RespondFunction } from "./responder";
export type {
  MidStreamFaultScript,
  ScriptedResponse,
  StallScript,
  StatusScript,
  StreamShape,
  TextScript,
  TextStopReason,
  ToolCallScript,
  ToolUseScript,
  UsageOverride,
} from "./scripted-response";
export { splitTokens } from "./split-tokens";
export { startFakeComposio, type FakeComposio, type FakeComposioAccount, type FakeComposioExecution, type FakeComposioToolkit, type FakeExecution } from "./composio/fake-composio";
