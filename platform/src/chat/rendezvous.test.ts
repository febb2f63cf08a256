import { describe, expect, it } from "vitest";
import { rendezvousOrder, rendezvousPick, sessionRoutingKey } from "./rendezvous";

const MEMBERS = ["gw-a-101-a1b2c3", "gw-b-202-d4e5f6", "gw-c-303-0a0b0c"];
const keys = Array.from({ length: 10_000 }, (_, index) => sessionRoutingKey("11111111-1111-4111-8111-111111111111", "ada", `session-${index}`));

describe("rendezvous hashing of sessions over gateways", () => {
  it("is stable: the same key and members give the same gateway, whatever order the members are listed in", () => {
    for (const key of keys.slice(0, 500)) {
      const picked = rendezvousPick(key, MEMBERS);
      expect(rendezvousPick(key, [...MEMBERS].reverse())).toBe(picked);
      expect(rendezvousPick(key, [MEMBERS[1]!, MEMBERS[2]!, MEMBERS[0]!])).toBe(picked);
    }
    expect(rendezvousPick("any", [])).toBeUndefined();
  });

  it("spreads 10,000 sessions over 3 gateways within ±15% of an even share", () => {
    const counts = new Map<string, number>();
    for (const key of keys) {
      const member = rendezvousPick(key, MEMBERS)!;
      counts.set(member, (counts.get(member) ?? 0) + 1);
    }
    const even = keys.length / MEMBERS.length;
    expect([...counts.keys()].sort()).toEqual([...MEMBERS].sort());
    for (const count of counts.values()) expect(Math.abs(count - even) / even).toBeLessThan(0.15);
  });

  it("moves only the leaving gateway's sessions when one leaves (each to its second choice), and only about a third when one joins", () => {
    const before = new Map(keys.map((key) => [key, rendezvousPick(key, MEMBERS)!]));
    const leaving = MEMBERS[1]!;
    const remaining = MEMBERS.filter((member) => member !== leaving);
    let moved = 0;
    for (const key of keys) {
      const after = rendezvousPick(key, remaining)!;
      if (before.get(key) === leaving) {
        moved += 1;
        expect(after).toBe(rendezvousOrder(key, MEMBERS)[1]);
      } else {
        expect(after).toBe(before.get(key));
      }
    }
    expect(moved).toBeGreaterThan(0);

    const joined = [...MEMBERS, "gw-d-404-dddddd"];
    const taken = keys.filter((key) => rendezvousPick(key, joined) !== before.get(key));
    expect(taken.every((key) => rendezvousPick(key, joined) === "gw-d-404-dddddd")).toBe(true);
    expect(Math.abs(taken.length - keys.length / 4) / (keys.length / 4)).toBeLessThan(0.15);
  });
});
