import { isHeartbeatFileEmpty } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { readHeartbeatReply } from "./heartbeat-reply";

describe("reading a heartbeat's reply", () => {
  it.each([
    ["HEARTBEAT_OK", ""],
    ["  HEARTBEAT_OK\n", ""],
    ["**HEARTBEAT_OK**", ""],
    ["`HEARTBEAT_OK`", ""],
    ["<b>HEARTBEAT_OK</b>", ""],
    ["HEARTBEAT_OK.", ""],
    ["All quiet. HEARTBEAT_OK", "All quiet."],
    ["HEARTBEAT_OK Nothing new in the inbox.", "Nothing new in the inbox."],
    ["HEARTBEAT_OK: all quiet", "all quiet"],
    ["", ""],
  ])("%j is an acknowledgement", (reply, text) => {
    expect(readHeartbeatReply(reply)).toEqual({ ack: true, text });
  });

  it("is an alert when the reply has no token, or the token only in the middle", () => {
    expect(readHeartbeatReply("The deploy failed twice.")).toEqual({ ack: false, text: "The deploy failed twice." });
    const middle = "I checked; HEARTBEAT_OK would be wrong: the disk is 95% full.";
    expect(readHeartbeatReply(middle)).toEqual({ ack: false, text: middle });
  });

  it("is an alert when more than ackMaxChars characters follow the token, without the token", () => {
    const text = "x".repeat(301);
    expect(readHeartbeatReply(`HEARTBEAT_OK ${text}`)).toEqual({ ack: false, text });
    expect(readHeartbeatReply(`HEARTBEAT_OK ${"x".repeat(300)}`).ack).toBe(true);
    expect(readHeartbeatReply("HEARTBEAT_OK four", 3)).toEqual({ ack: false, text: "four" });
  });
});

describe("an effectively empty HEARTBEAT.md", () => {
  it.each(["", "  \n\n", "# Heartbeat\n\n## Daily\n", "<!-- nothing yet -->", "<!--\n- a check,\nstill commented\n-->", "- \n- [ ]\n* [x]\n+"])("%j asks for nothing", (content) => {
    expect(isHeartbeatFileEmpty(content)).toBe(true);
  });

  it.each(["- Check the inbox", "# Heartbeat\nLook at the calendar.", "<!-- note --> check the queue"])("%j asks for something", (content) => {
    expect(isHeartbeatFileEmpty(content)).toBe(false);
  });
});
