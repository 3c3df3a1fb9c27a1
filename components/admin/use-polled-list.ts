"use client";

import { useCallback, useEffect, useState } from "react";
import { callApi } from "./api";

/**
 * A list of runs read from `url` (`{ runs: [...] }`), polled every `everyMs` while any run is
 * still going; `refresh` reads it once now (after starting, cancelling or retrying one).
 */
export function usePolledList<Run extends { progress: { status: string } }>(url: string, initial: Run[], everyMs: number) {
  const [runs, setRuns] = useState<Run[]>(initial);
  const refresh = useCallback(async () => {
    const result = await callApi<{ runs: Run[] }>(url);
    if (result.ok) setRuns(result.data.runs);
  }, [url]);
  const active = runs.some((r) => r.progress.status === "running");
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(refresh, everyMs);
    return () => clearInterval(timer);
  }, [active, refresh, everyMs]);
  return { runs, refresh };
}
