import { AuthApiError, type UserAttributes } from "@supabase/supabase-js";
import { describe, expect, it } from "vitest";
import { changePassword, requestCode } from "./change-password";

const NONCE = "123456";

/** The two calls of supabase-js the password change uses, answering like the platform's `/auth/v1` for a sign-in older than a day. */
function oldSession() {
  const calls: string[] = [];
  const auth = {
    updateUser: async (attributes: UserAttributes) => {
      calls.push(`updateUser ${attributes.nonce ?? "without nonce"}`);
      if (attributes.nonce === NONCE) return { data: { user: {} }, error: null };
      const message = attributes.nonce ? "That code is wrong or has expired; ask for a new one" : "Changing the password of a session that signed in more than a day ago needs a code";
      return { data: { user: null }, error: new AuthApiError(message, 400, "reauthentication_needed") };
    },
    reauthenticate: async () => {
      calls.push("reauthenticate");
      return { data: { user: null, session: null }, error: null };
    },
  };
  return { auth: auth as unknown as Parameters<typeof changePassword>[0], calls };
}

describe("changing the password", () => {
  it("asks the server to mail a code when the sign-in is too old, then succeeds with that code", async () => {
    const { auth, calls } = oldSession();
    expect(await changePassword(auth, "a new long password")).toEqual({ status: "code-sent" });
    expect(await changePassword(auth, "a new long password", NONCE)).toEqual({ status: "saved" });
    expect(calls).toEqual(["updateUser without nonce", "reauthenticate", `updateUser ${NONCE}`]);
  });

  it("says a wrong code is wrong instead of mailing yet another one", async () => {
    const { auth, calls } = oldSession();
    const outcome = await changePassword(auth, "a new long password", "000000");
    expect(outcome).toMatchObject({ status: "error", error: { code: "reauthentication_needed", message: expect.stringMatching(/code is wrong or has expired/) } });
    expect(calls).toEqual(["updateUser 000000"]);
    expect(await requestCode(auth)).toEqual({ status: "code-sent" });
  });

  it("passes other refusals through with their message", async () => {
    const auth = {
      updateUser: async () => ({ data: { user: null }, error: new AuthApiError("Password should be at least 8 characters", 422, "weak_password") }),
      reauthenticate: async () => ({ data: { user: null, session: null }, error: null }),
    } as unknown as Parameters<typeof changePassword>[0];
    expect(await changePassword(auth, "short")).toEqual({ status: "error", error: { code: "weak_password", message: "Password should be at least 8 characters" } });
  });
});
