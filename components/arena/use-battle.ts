"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { BattleView } from "@/lib/arena/battle-view";

export type Side = "A" | "B";
type Live = Record<string, string>; // `${turn}:${side}` → streamed text so far

async function readError(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/** Loads a battle, streams its unfinished sides over SSE and refreshes when they end. */
export function useBattle() {
  const [battle, setBattle] = useState<BattleView | null>(null);
  const [live, setLive] = useState<Live>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sources = useRef<EventSource[]>([]);

  const closeStreams = () => {
    for (const s of sources.current) s.close();
    sources.current = [];
  };
  useEffect(() => closeStreams, []);

  const load = useCallback(async (id: string) => {
    const res = await fetch(`/api/battles/${id}`, { cache: "no-store" });
    if (!res.ok) throw new Error(await readError(res));
    const view = (await res.json()) as BattleView;
    setBattle(view);
    return view;
  }, []);

  const stream = useCallback((view: BattleView) => {
    closeStreams();
    const pending = view.turns.flatMap((t) =>
      (["A", "B"] as Side[]).filter((s) => ["queued", "running"].includes(t.sides[s]?.status ?? "")).map((s) => ({ turn: t.turn, side: s })),
    );
    let open = pending.length;
    for (const { turn, side } of pending) {
      const key = `${turn}:${side}`;
      const source = new EventSource(`/api/battles/${view.id}/stream?side=${side}&turn=${turn}`);
      sources.current.push(source);
      source.onmessage = (event) => {
        const msg = JSON.parse(event.data) as { type: string; text?: string };
        if (msg.type === "delta" && msg.text) setLive((l) => ({ ...l, [key]: (l[key] ?? "") + msg.text }));
        // A retried generation starts over: drop what this side streamed so far.
        if (msg.type === "reset") setLive((l) => ({ ...l, [key]: "" }));
        if (msg.type === "done" || msg.type === "error") {
          source.close();
          open -= 1;
          if (open === 0) void load(view.id).catch((e: Error) => setError(e.message));
        }
      };
    }
  }, [load]);

  const start = useCallback(async (body: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    setLive({});
    closeStreams();
    try {
      const res = await fetch("/api/battles", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(await readError(res));
      const { id } = (await res.json()) as { id: string };
      stream(await load(id));
    } catch (e) {
      setBattle(null);
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }, [load, stream]);

  const followUp = useCallback(async (prompt: string) => {
    if (!battle) return;
    setError(null);
    const res = await fetch(`/api/battles/${battle.id}/turns`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt }) });
    if (!res.ok) return setError(await readError(res));
    stream(await load(battle.id));
  }, [battle, load, stream]);

  const vote = useCallback(async (winner: string, reason: string) => {
    if (!battle) return;
    setBusy(true);
    setError(null);
    const res = await fetch(`/api/battles/${battle.id}/vote`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ winner, reason: reason || undefined }),
    });
    setBusy(false);
    if (!res.ok) return setError(await readError(res));
    await load(battle.id);
  }, [battle, load]);

  /** Clears the current battle (switching to live mode, or a new live prompt after a vote). */
  const reset = useCallback(() => {
    closeStreams();
    setBattle(null);
    setLive({});
    setError(null);
  }, []);

  const textOf = (turn: number, side: Side) => {
    const view = battle?.turns.find((t) => t.turn === turn)?.sides[side];
    if (view && view.status === "completed") return view.text;
    return live[`${turn}:${side}`] ?? view?.text ?? "";
  };

  return { battle, error, busy, start, vote, followUp, textOf, reset };
}
