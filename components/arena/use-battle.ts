"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { BattleView } from "@/lib/arena/battle-view";
import type { Catalogue } from "@/lib/i18n";
import { knownErrorText } from "@/lib/i18n/lang";

export type Side = "A" | "B";
type Live = Record<string, string>; // `${turn}:${side}` → streamed text so far

const SIDES: Side[] = ["A", "B"];
/** While a side has stalled, the view is reloaded this often: the answer may still finish. */
const STALLED_RELOAD_MS = 10_000;

type ErrorBody = { error?: { message?: string; key?: string; values?: Record<string, string | number> } };

/** A refusal as the page says it: its catalogue message in the page's language, else the server's text. */
async function readError(res: Response, said: Catalogue["errors"]): Promise<string> {
  try {
    const { error } = (await res.json()) as ErrorBody;
    return knownErrorText(error, said) ?? error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

function post(url: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body), signal });
}

/**
 * Loads a battle, streams its unfinished sides over SSE and reloads the view when they end.
 * A side that failed for good or stalled is offered a re-roll; the battle can be left for a new one.
 */
export function useBattle(said: Catalogue["errors"]) {
  const [battle, setBattle] = useState<BattleView | null>(null);
  const [live, setLive] = useState<Live>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sources = useRef(new Map<string, EventSource>());
  /**
   * The battle this view follows, and the start request in flight. A response that arrives after
   * the voter moved on (switched tabs, started another battle) is dropped: it must not land under
   * the tab the voter is on now.
   */
  const currentId = useRef<string | null>(null);
  const pending = useRef<AbortController | null>(null);
  /** Per side: the pause before a stream the server failed is opened again. */
  const retryMs = useRef(new Map<string, number>());

  const closeStreams = () => {
    for (const s of sources.current.values()) s.close();
    sources.current.clear();
  };
  useEffect(() => closeStreams, []);

  /** The battle's view, applied only while it is still the one shown (null otherwise). */
  const load = useCallback(async (id: string, signal?: AbortSignal): Promise<BattleView | null> => {
    const res = await fetch(`/api/battles/${id}`, { cache: "no-store", signal });
    if (currentId.current !== id) return null;
    if (!res.ok) throw new Error(await readError(res, said));
    const view = (await res.json()) as BattleView;
    if (currentId.current !== id) return null;
    setBattle(view);
    return view;
  }, []);

  // These only touch refs and state setters, so handlers (and callbacks) holding an older copy
  // behave the same.
  const openStream = (battleId: string, turn: number, side: Side) => {
    const key = `${turn}:${side}`;
    // The stream replays from the start: drop what an earlier stream of this side showed.
    setLive((l) => ({ ...l, [key]: "" }));
    const source = new EventSource(`/api/battles/${battleId}/stream?side=${side}&turn=${turn}`);
    sources.current.set(key, source);
    // A failed or stalled side shows its choices at once; completed ones reload the view when all are in.
    const end = (failed: boolean) => {
      source.close();
      sources.current.delete(key);
      if (failed || sources.current.size === 0) void refresh(battleId).catch((e: Error) => setError(e.message));
    };
    source.onmessage = (event) => {
      const msg = JSON.parse(event.data) as { type: string; text?: string };
      retryMs.current.delete(key);
      if (msg.type === "delta" && msg.text) setLive((l) => ({ ...l, [key]: (l[key] ?? "") + msg.text }));
      // A retried generation starts over: drop what this side streamed so far.
      if (msg.type === "reset") setLive((l) => ({ ...l, [key]: "" }));
      if (msg.type === "done" || msg.type === "error") end(msg.type === "error");
    };
    // The server's last `error` event arrives as a MessageEvent; a dropped connection is a plain
    // Event, and EventSource reconnects by itself. A stalled side shows its choices at once; a
    // stream the server could not serve (Redis away) is opened again after a growing pause, so
    // an open tab never hammers a server that is in trouble.
    source.addEventListener("error", (event) => {
      if (!(event instanceof MessageEvent)) return;
      const stalled = (JSON.parse(String(event.data)) as { reason?: string }).reason === "stalled";
      if (stalled) return end(true);
      source.close();
      sources.current.delete(key);
      const pauseMs = retryMs.current.get(key) ?? 2_000;
      retryMs.current.set(key, Math.min(pauseMs * 2, 30_000));
      setTimeout(() => void refresh(battleId).catch((e: Error) => setError(e.message)), pauseMs);
    });
  };

  /** Opens a stream for every unfinished side that has none and has not stalled. */
  const follow = (view: BattleView) => {
    for (const t of view.turns) {
      for (const side of SIDES) {
        const s = t.sides[side];
        if (!s || !["queued", "running"].includes(s.status) || s.stalled) continue;
        if (!sources.current.has(`${t.turn}:${side}`)) openStream(view.id, t.turn, side);
      }
    }
  };

  const refresh = async (id: string) => {
    const view = await load(id);
    if (view) follow(view);
  };

  /** Stops following the current battle and drops the start request in flight, if any. */
  const supersede = () => {
    pending.current?.abort();
    pending.current = null;
    currentId.current = null;
    closeStreams();
  };

  const start = useCallback(async (body: Record<string, unknown>) => {
    supersede();
    const request = new AbortController();
    pending.current = request;
    setBusy(true);
    setError(null);
    setLive({});
    try {
      const res = await post("/api/battles", body, request.signal);
      if (!res.ok) throw new Error(await readError(res, said));
      const { id } = (await res.json()) as { id: string };
      if (request.signal.aborted) return;
      currentId.current = id;
      const view = await load(id, request.signal);
      if (view) follow(view);
    } catch (e) {
      if (request.signal.aborted) return;
      setBattle(null);
      setError((e as Error).message);
    } finally {
      if (pending.current === request) {
        pending.current = null;
        setBusy(false);
      }
    }
  }, [load]);

  /**
   * An action on the shown battle (a turn, a vote, a re-roll). Its answer is applied only while
   * that battle is still the one shown: a voter who switched tabs meanwhile sees neither its
   * error nor a busy flag cleared under the new tab.
   */
  const act = async (id: string, url: string, body: unknown, then: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      const res = await post(url, body);
      if (currentId.current !== id) return;
      setBusy(false);
      if (!res.ok) return setError(await readError(res, said));
      await then();
    } catch (e) {
      if (currentId.current !== id) return;
      setBusy(false);
      setError((e as Error).message);
    }
  };

  const followUp = useCallback(async (prompt: string) => {
    if (!battle) return;
    await act(battle.id, `/api/battles/${battle.id}/turns`, { prompt }, () => refresh(battle.id));
  }, [battle]);

  const vote = useCallback(async (winner: string, reason: string) => {
    if (!battle) return;
    await act(battle.id, `/api/battles/${battle.id}/vote`, { winner, reason: reason || undefined }, () => load(battle.id));
  }, [battle, load]);

  /** A fresh answer for a side that failed for good or stalled; it streams like the first one. */
  const reroll = useCallback(async (side: Side, turn: number) => {
    if (!battle) return;
    await act(battle.id, `/api/battles/${battle.id}/reroll`, { side, turn }, () => refresh(battle.id));
  }, [battle]);

  /** Leaves the battle for a new one: it will never be rated. false when the server refused. */
  const abandon = useCallback(async (): Promise<boolean> => {
    if (!battle) return true;
    closeStreams();
    const res = await post(`/api/battles/${battle.id}/abandon`);
    if (!res.ok) {
      setError(await readError(res, said));
      return false;
    }
    return true;
  }, [battle]);

  // A stalled answer may still finish (or move again): look now and then, and resume its stream.
  const stalled = !!battle && !battle.vote && battle.turns.some((t) => SIDES.some((s) => t.sides[s]?.stalled));
  const battleId = battle?.id;
  useEffect(() => {
    if (!stalled || !battleId) return;
    const timer = setInterval(() => void refresh(battleId).catch(() => undefined), STALLED_RELOAD_MS);
    return () => clearInterval(timer);
  }, [stalled, battleId]);

  /** Clears the current battle (switching to live mode, or a new live prompt after a vote). */
  const reset = useCallback(() => {
    supersede();
    setBattle(null);
    setLive({});
    setError(null);
    setBusy(false);
  }, []);

  const textOf = (turn: number, side: Side) => {
    const view = battle?.turns.find((t) => t.turn === turn)?.sides[side];
    if (view && view.status === "completed") return view.text;
    return live[`${turn}:${side}`] || view?.text || "";
  };

  return { battle, error, busy, start, vote, followUp, reroll, abandon, textOf, reset };
}
