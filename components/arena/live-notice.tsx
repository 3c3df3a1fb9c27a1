"use client";

import { useCallback, useEffect, useState } from "react";
import type { Catalogue } from "@/lib/i18n";

// Shown above the prompt box until the voter dismisses it or sends their first live prompt;
// remembered in this browser only (no account or cookie needed).
const SEEN_KEY = "leitai_live_notice_seen";

function readSeen(): boolean {
  try {
    return window.localStorage.getItem(SEEN_KEY) === "1";
  } catch {
    return false; // storage disabled: show it again next time rather than never
  }
}

/**
 * Whether to show the notice, and the way to retire it. Unknown (null) until the browser's
 * storage has been read: the server renders no notice.
 */
export function useLiveNotice(): { show: boolean; state: "shown" | "seen" | null; acknowledge: () => void } {
  const [seen, setSeen] = useState<boolean | null>(null);
  useEffect(() => setSeen(readSeen()), []);
  const acknowledge = useCallback(() => {
    setSeen(true);
    try {
      window.localStorage.setItem(SEEN_KEY, "1");
    } catch {
      // storage disabled: dismissed for this page only
    }
  }, []);
  return { show: seen === false, state: seen === null ? null : seen ? "seen" : "shown", acknowledge };
}

export function LiveNotice({ m, onAcknowledge }: { m: Catalogue["arena"]; onAcknowledge: () => void }) {
  return (
    <div className="live-notice card" role="note" data-testid="live-notice" style={{ display: "flex", flexWrap: "wrap", alignItems: "center", gap: "0.75rem", padding: "0.6rem 0.8rem" }}>
      <p style={{ margin: 0, flex: "1 1 20rem" }}>{m.liveNotice}</p>
      <button type="button" onClick={onAcknowledge} data-testid="live-notice-ok">{m.liveNoticeOk}</button>
    </div>
  );
}
