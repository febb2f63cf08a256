import type { ReactNode } from "react";
import { Logo } from "../ui/logo";

/**
 * The centred card of the pages a visitor may see before the app: sign-in, confirmation links,
 * invitations. Without a `title` the brand is the page's heading (the sign-in screen).
 */
export function AuthCard({ title, children }: { title?: string; children: ReactNode }) {
  const brand = (
    <>
      <Logo size={28} /> Workforce
    </>
  );
  return (
    <main className="auth-page" id="main" tabIndex={-1}>
      <div className="auth-card">
        {title ? (
          <>
            <p className="brand auth-brand">{brand}</p>
            <h1>{title}</h1>
          </>
        ) : (
          <h1 className="brand brand-large">{brand}</h1>
        )}
        {children}
      </div>
    </main>
  );
}
