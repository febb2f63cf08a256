/** The Workforce mark (also public/favicon.svg): drawn, so it shows on machines without an emoji font. */
export function Logo({ size = 24 }: { size?: number }) {
  return (
    <svg className="logo" viewBox="0 0 32 32" width={size} height={size} aria-hidden="true" focusable="false">
      <rect className="logo-tile" width="32" height="32" rx="8" />
      <path d="M6 10h3.2l2.3 9.2L14 10h4l2.5 9.2L22.8 10H26l-4 13h-3.4L16 14.4 13.4 23H10z" className="logo-mark" />
    </svg>
  );
}
