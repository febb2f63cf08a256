import { useServices } from "../services";
import { useNotice } from "./notice-store";

/** The app-wide notice under the top bar (`data-testid="notice"`), until dismissed or replaced. */
export function NoticeBanner() {
  const { notices } = useServices();
  const notice = useNotice(notices);
  return (
    <div className="banner-slot" role="status">
      {notice ? (
        <div className="banner banner-success" data-testid="notice" key={notice.id}>
          <span>{notice.text}</span>
          <button type="button" className="button ghost small" onClick={() => notices.clear()} aria-label="Dismiss notice">
            ✕
          </button>
        </div>
      ) : null}
    </div>
  );
}
