/** The user object GoTrue answers with; supabase-js reads `id`, `email`, `aud`, `role` and the metadata. */
export interface GoTrueUser {
  id: string;
  aud: "authenticated";
  role: "authenticated";
  email: string;
  email_confirmed_at: string;
  phone: string;
  confirmed_at: string;
  last_sign_in_at: string | null;
  app_metadata: { provider: "email"; providers: ["email"] };
  user_metadata: Record<string, never>;
  identities: [];
  created_at: string;
  updated_at: string;
  is_anonymous: false;
}

/** A session as GoTrue returns it from /signup and /token. */
export interface GoTrueSession {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: GoTrueUser;
}

export function toGoTrueUser(row: {
  id: string;
  email: string;
  created_at: Date;
  updated_at: Date;
  last_sign_in_at: Date | null;
}): GoTrueUser {
  const created = row.created_at.toISOString();
  return {
    id: row.id,
    aud: "authenticated",
    role: "authenticated",
    email: row.email,
    email_confirmed_at: created,
    phone: "",
    confirmed_at: created,
    last_sign_in_at: row.last_sign_in_at ? row.last_sign_in_at.toISOString() : null,
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    identities: [],
    created_at: created,
    updated_at: row.updated_at.toISOString(),
    is_anonymous: false,
  };
}
