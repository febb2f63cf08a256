/** The user object GoTrue answers with; supabase-js reads `id`, `email`, `aud`, `role` and the metadata. */
export interface GoTrueUser {
  id: string;
  aud: "authenticated";
  role: "authenticated";
  email: string;
  /** Null until the address is confirmed. */
  email_confirmed_at: string | null;
  phone: string;
  confirmed_at: string | null;
  /** Set while an email change waits for confirmation at the new address. */
  new_email?: string;
  email_change_sent_at?: string;
  confirmation_sent_at?: string;
  last_sign_in_at: string | null;
  app_metadata: { provider: "email"; providers: ["email"]; operator?: true };
  user_metadata: Record<string, never>;
  identities: [];
  created_at: string;
  updated_at: string;
  is_anonymous: false;
}

/** A session as GoTrue returns it from /signup, /token and /verify. */
export interface GoTrueSession {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: GoTrueUser;
}

export interface UserRecord {
  id: string;
  email: string;
  created_at: Date;
  updated_at: Date;
  last_sign_in_at: Date | null;
  email_confirmed_at: Date | null;
  is_operator?: boolean;
}

export function toGoTrueUser(row: UserRecord, extra: { newEmail?: string; emailChangeSentAt?: Date; confirmationSentAt?: Date } = {}): GoTrueUser {
  const confirmed = row.email_confirmed_at ? row.email_confirmed_at.toISOString() : null;
  return {
    id: row.id,
    aud: "authenticated",
    role: "authenticated",
    email: row.email,
    email_confirmed_at: confirmed,
    phone: "",
    confirmed_at: confirmed,
    ...(extra.newEmail ? { new_email: extra.newEmail } : {}),
    ...(extra.emailChangeSentAt ? { email_change_sent_at: extra.emailChangeSentAt.toISOString() } : {}),
    ...(extra.confirmationSentAt ? { confirmation_sent_at: extra.confirmationSentAt.toISOString() } : {}),
    last_sign_in_at: row.last_sign_in_at ? row.last_sign_in_at.toISOString() : null,
    app_metadata: { provider: "email", providers: ["email"], ...(row.is_operator ? { operator: true as const } : {}) },
    user_metadata: {},
    identities: [],
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    is_anonymous: false,
  };
}
