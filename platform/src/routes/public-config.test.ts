import { createClient } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedPublishableKey } from "../auth/publishable-key";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { createTestPlatform, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";

let gateway: FakeGateway;
let platform: TestPlatform;

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

const PublicConfig = async () => (await (await platform.app.request(`${TEST_ORIGIN}/api/config`)).json()) as { supabaseUrl: string; supabaseAnonKey: string; embeddedAuth: boolean };

describe("/api/config for the embedded auth", () => {
  it("gives a Supabase-style publishable key, the same for every process of the installation and another for another installation", async () => {
    const config = await PublicConfig();
    expect(config.embeddedAuth).toBe(true);
    expect(config.supabaseUrl).toBe(TEST_ORIGIN);
    expect(config.supabaseAnonKey).toMatch(/^sb_publishable_[A-Za-z0-9_-]{32}$/);
    expect(config.supabaseAnonKey).toBe(embeddedPublishableKey(TEST_ORIGIN));
    expect(embeddedPublishableKey("https://other.example")).not.toBe(config.supabaseAnonKey);
  });

  it("is all the real supabase-js needs: sign up, sign in and read the user with exactly what /api/config says", async () => {
    const config = await PublicConfig();
    const sent: string[] = [];
    const supabase = createClient(config.supabaseUrl, config.supabaseAnonKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      global: {
        fetch: (input, init) => {
          sent.push(new Headers(init?.headers).get("apikey") ?? "");
          return platform.fetch(input, init);
        },
      },
    });
    const signUp = await supabase.auth.signUp({ email: "key@example.com", password: "correct horse battery" });
    expect(signUp.error).toBeNull();
    await supabase.auth.signOut({ scope: "local" });
    const signIn = await supabase.auth.signInWithPassword({ email: "key@example.com", password: "correct horse battery" });
    expect(signIn.error).toBeNull();
    const user = await supabase.auth.getUser();
    expect(user.data.user?.email).toBe("key@example.com");
    // supabase-js sends the key as `apikey` on every call, as it would to Supabase.
    expect(new Set(sent)).toEqual(new Set([config.supabaseAnonKey]));
  });
});
