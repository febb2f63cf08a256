export * from "./errors";
export * from "./events";
export * from "./gateway-api";
export * from "./sse";
export * from "./ws-frames";
export * from "./platform-api";
export * from "./cluster";
export * from "./integrations";
