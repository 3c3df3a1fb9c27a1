"use client";

import { useCallback, useEffect, useState } from "react";
import { Markdown } from "@/components/markdown";
import type { Catalogue } from "@/lib/i18n";
import { fill, nameIn, type Lang } from "@/lib/i18n/lang";
import { LiveNotice, useLiveNotice } from "./live-notice";
import { useBattle, type Side } from "./use-battle";

/** What the arena says: its own words, and the server's refusals to say again in the page's language. */
export type ArenaMessages = Pick<Catalogue, "arena" | "errors">;

type Category = { id: string; nameZh: string; nameEn: string };
type Props = {
  m: ArenaMessages;
  lang: Lang;
  categories: Category[];
  promptMaxChars: number;
  /** Named mode: the two models the voter picked. */
  named?: { modelA: string; modelB: string } | null;
};

const WINNERS = [
  { winner: "A", key: "1", label: "aBetter" },
  { winner: "B", key: "2", label: "bBetter" },
  { winner: "tie", key: "3", label: "tie" },
  { winner: "both_bad", key: "4", label: "bothBad" },
] as const;

export function BattleArena({ m, lang, categories, promptMaxChars, named = null }: Props) {
  const { battle, error, busy, start, vote, followUp, reroll, abandon, textOf, reset } = useBattle(m.errors);
  const notice = useLiveNotice();
  const [mode, setMode] = useState<"bank" | "live">(named ? "live" : "bank");
  const [categoryId, setCategoryId] = useState("");
  const [prompt, setPrompt] = useState("");
  const [reason, setReason] = useState("");
  const [followUpText, setFollowUpText] = useState("");
  const tooLong = [...prompt].length > promptMaxChars;
  const canVote = !!battle && battle.complete && !battle.vote && battle.status !== "abandoned" && !busy;
  const isLast = (turn: number) => turn === battle?.turns[battle.turns.length - 1]?.turn;

  const next = useCallback(() => {
    setReason("");
    if (named) return void start({ mode: "named", modelA: named.modelA, modelB: named.modelB, ...(prompt.trim() ? { prompt } : {}) });
    if (mode === "bank") void start({ mode: "bank", ...(categoryId ? { categoryId } : {}) });
    else {
      reset();
      setPrompt("");
    }
  }, [named, mode, categoryId, prompt, start, reset]);

  // A failed or stalled battle's way out: leave it (it is never rated) for a new one of the same
  // kind — the same first prompt for a live or named battle, a new draw from the bank otherwise.
  const newBattle = useCallback(async () => {
    if (!battle) return;
    const firstPrompt = battle.question ? "" : (battle.turns[0]?.prompt ?? "");
    if (!(await abandon())) return;
    setReason("");
    if (named) return void start({ mode: "named", modelA: named.modelA, modelB: named.modelB, ...(firstPrompt ? { prompt: firstPrompt } : {}) });
    if (battle.mode === "bank") return void start({ mode: "bank", ...(categoryId ? { categoryId } : {}) });
    void start({ mode: "live", prompt: firstPrompt });
  }, [battle, abandon, named, categoryId, start]);

  // Bank battles start at once; live ones wait for the voter's prompt.
  useEffect(() => {
    if (named) return;
    if (mode === "bank") next();
    else reset();
  }, [mode, categoryId]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement) return;
      const choice = WINNERS.find((w) => w.key === e.key);
      if (choice && canVote) void vote(choice.winner, reason);
      if ((e.key === "n" || e.key === "N") && battle?.vote) next();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [canVote, vote, reason, battle, next]);

  const submitPrompt = (e: React.FormEvent) => {
    e.preventDefault();
    if (tooLong || !prompt.trim()) return;
    // Sending a prompt with the notice in view counts as having read it.
    notice.acknowledge();
    if (named) return next();
    void start({ mode: "live", prompt });
  };

  return (
    <div className="arena" data-testid="arena" data-live-notice={notice.state ?? undefined}>
      {!named && (
        <div className="mode-tabs" role="tablist">
          <button role="tab" aria-selected={mode === "bank"} className={mode === "bank" ? "tab active" : "tab"} data-testid="mode-bank" onClick={() => setMode("bank")}>{m.arena.bankMode}</button>
          <button role="tab" aria-selected={mode === "live"} className={mode === "live" ? "tab active" : "tab"} data-testid="mode-live" onClick={() => setMode("live")}>{m.arena.liveMode}</button>
          {mode === "bank" && (
            <select value={categoryId} onChange={(e) => setCategoryId(e.target.value)} data-testid="category-select" aria-label={m.arena.allCategories}>
              <option value="">{m.arena.allCategories}</option>
              {categories.map((c) => <option key={c.id} value={c.id}>{nameIn(lang, c)}</option>)}
            </select>
          )}
        </div>
      )}

      {(mode === "live" || named) && !battle?.turns.length && (
        <form className="prompt-form" onSubmit={submitPrompt}>
          {notice.show && <LiveNotice m={m.arena} onAcknowledge={notice.acknowledge} />}
          <textarea value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder={m.arena.promptPlaceholder} rows={3} data-testid="prompt-input" />
          <div className="prompt-meta">
            <span className={tooLong ? "error" : "muted"} data-testid="prompt-count">{[...prompt].length} / {promptMaxChars}</span>
            <button type="submit" disabled={busy || tooLong || (!named && !prompt.trim())} data-testid="prompt-submit">{m.arena.send}</button>
          </div>
          {tooLong && <p className="error" data-testid="prompt-too-long">{fill(m.errors.promptTooLong, { n: promptMaxChars })}</p>}
        </form>
      )}

      {error && <p className="error" role="alert" data-testid="battle-error">{error}</p>}

      {battle && (
        <div data-testid="battle" data-battle-id={battle.id}>
          {battle.turns.map((turn) => (
            <section key={turn.turn} className="turn">
              <div className="question" data-testid={`turn-${turn.turn}-prompt`}>
                <strong>{m.arena.question}:</strong> {turn.prompt}
                {turn.turn === 0 && battle.question && <span className="muted"> · {nameIn(lang, { nameZh: battle.question.categoryZh, nameEn: battle.question.categoryEn })}</span>}
              </div>
              <div className="sides">
                {(["A", "B"] as Side[]).map((side) => (
                  <article key={side} className="side card" data-testid={`side-${side}-${turn.turn}`}>
                    <header className="side-head">
                      <span>{side === "A" ? m.arena.sideA : m.arena.sideB}</span>
                      {battle.reveal && <strong data-testid={`reveal-${side}`}>{battle.reveal[side].displayName}</strong>}
                    </header>
                    <Markdown text={textOf(turn.turn, side)} />
                    {["queued", "running"].includes(turn.sides[side]?.status ?? "") && !turn.sides[side]?.stalled && <p className="muted" data-testid={`waiting-${side}`}>{m.arena.waiting}</p>}
                    {turn.sides[side]?.error && (
                      <p className="error" data-testid={`side-error-${side}`}>{turn.sides[side]?.stalled ? m.arena.sideStalled : m.arena.sideFailed}</p>
                    )}
                    {isLast(turn.turn) && battle.stuck.includes(side) && (
                      <button onClick={() => void reroll(side, turn.turn)} disabled={busy} data-testid={`reroll-${side}`}>
                        {m.arena.reroll} ({side === "A" ? m.arena.sideA : m.arena.sideB})
                      </button>
                    )}
                  </article>
                ))}
              </div>
            </section>
          ))}

          {battle.mode !== "bank" && !battle.question && battle.complete && !battle.vote && battle.status !== "abandoned" && (
            <form className="follow-up" onSubmit={(e) => { e.preventDefault(); if (followUpText.trim()) { void followUp(followUpText); setFollowUpText(""); } }}>
              <input value={followUpText} onChange={(e) => setFollowUpText(e.target.value)} placeholder={m.arena.followUp} maxLength={promptMaxChars} data-testid="follow-up-input" />
              <button type="submit" data-testid="follow-up-submit">{m.arena.send}</button>
            </form>
          )}

          {battle.stuck.length > 0 && (
            <div className="stuck card" role="status" data-testid="stuck">
              <p>{m.arena.stuckHint}</p>
              <button onClick={() => void newBattle()} disabled={busy} data-testid="new-battle">{m.arena.newBattle}</button>
            </div>
          )}

          {battle.status === "abandoned" ? (
            <div className="abandoned card" data-testid="battle-abandoned">
              <p className="muted">{m.arena.abandoned}</p>
            </div>
          ) : !battle.vote ? (
            <div className="vote-bar">
              <div className="vote-buttons">
                {WINNERS.map((w) => (
                  <button key={w.winner} disabled={!canVote} onClick={() => void vote(w.winner, reason)} data-testid={`vote-${w.winner}`} title={`${m.arena[w.label]} (${w.key})`}>
                    {m.arena[w.label]}
                  </button>
                ))}
              </div>
              <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={280} placeholder={m.arena.reason} data-testid="vote-reason" />
              <p className="muted small">{m.arena.voteHint}</p>
            </div>
          ) : (
            <div className="voted card" data-testid="voted">
              <p>
                {m.arena.thanks} A = <strong>{battle.reveal?.A.displayName}</strong>, B = <strong>{battle.reveal?.B.displayName}</strong>
                {!battle.vote.valid && <span className="muted"> {m.arena.invalidVote}</span>}
              </p>
              <button onClick={next} data-testid="next-battle" disabled={busy}>{m.arena.nextBattle} (N)</button>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
