import { describe, expect, it } from "vitest";
import { SendMessageInput } from "./gateway-api";
import { WS_METHOD_PARAMS } from "./ws-frames";

describe("WebSocket frames", () => {
  it("let chat.send carry everything an HTTP send can (the platform sends over either)", () => {
    const frame = Object.keys(WS_METHOD_PARAMS["chat.send"].shape);
    for (const field of Object.keys(SendMessageInput.shape)) expect(frame, field).toContain(field);
  });
});
