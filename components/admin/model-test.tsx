"use client";

import { useEffect, useRef, useState } from "react";
import type { Catalogue } from "@/lib/i18n";
import { fill } from "@/lib/i18n/lang";
import { callApi } from "./api";

type Stats = { ttftMs: number | null; tokensPerSecond: number | null; completionTokens: number | null };
type Message = { seq: number; type: "delta" | "done" | "error" | "reset"; text?: string; error?: string;
  usage?: { completionTokens: number }; ttftMs?: number; durationMs?: number };

/** Sends a sample prompt through the real queue → worker → engine path and shows the stream. */
export function ModelTest({ modelId, active, said }: { modelId: string; active: boolean; said: Catalogue["adminModel"] }) {
  const [prompt, setPrompt] = useState(said.testPrompt);
  const [text, setText] = useState("");
  const [state, setState] = useState<"idle" | "waiting" | "streaming" | "done" | "error">("idle");
  const [error, setError] = useState<string | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const source = useRef<EventSource | null>(null);
  useEffect(() => () => source.current?.close(), []);

  async function run() {
    source.current?.close();
    setText(""); setError(null); setStats(null); setState("waiting");
    const started = performance.now();
    const result = await callApi<{ generationId: string }>(`/api/admin/models/${modelId}/test`, { body: { prompt } });
    if (!result.ok) { setState("error"); setError(result.error.message); return; }
    let firstAt: number | null = null;
    const es = new EventSource(`/api/generations/${result.data.generationId}/stream`);
    source.current = es;
    es.onmessage = (event) => {
      const m = JSON.parse(event.data) as Message;
      if (m.type === "reset") setText("");
      if (m.type === "delta" && m.text) {
        firstAt ??= performance.now();
        setState("streaming");
        setText((t) => t + m.text);
      }
      if (m.type === "done") {
        es.close();
        const now = performance.now();
        // The worker's own numbers win; the browser's clock is the fallback.
        const ttftMs = m.ttftMs ?? (firstAt ? Math.round(firstAt - started) : null);
        const tokens = m.usage?.completionTokens ?? null;
        const genMs = m.durationMs && m.ttftMs !== undefined ? m.durationMs - m.ttftMs : firstAt ? now - firstAt : null;
        setStats({ ttftMs, completionTokens: tokens, tokensPerSecond: tokens && genMs && genMs > 0 ? (tokens / genMs) * 1000 : null });
        setState("done");
      }
      if (m.type === "error") { es.close(); setState("error"); setError(m.error ?? said.testFailed); }
    };
    es.addEventListener("error", () => {
      if (es.readyState === EventSource.CLOSED) { setState((s) => (s === "done" ? s : "error")); setError((e) => e ?? said.streamClosed); }
    });
  }

  const stateTexts = { idle: said.stateIdle, waiting: said.stateWaiting, streaming: said.stateStreaming, done: said.stateDone, error: said.stateError };
  return (
    <div className="card" data-testid="model-test">
      <h3 style={{ marginTop: 0 }}>{said.testHeading}</h3>
      <div className="admin-row">
        <input style={{ flex: "1 1 20rem" }} value={prompt} onChange={(e) => setPrompt(e.target.value)} data-testid="model-test-prompt" aria-label={said.testPromptLabel} />
        <button type="button" onClick={run} disabled={!active || state === "waiting" || state === "streaming"} data-testid="model-test-run">
          {state === "waiting" ? said.testQueued : state === "streaming" ? said.testGenerating : said.testRun}
        </button>
      </div>
      {!active && <p className="small muted" data-testid="model-test-inactive">{said.testInactive}</p>}
      <div className="stream-out" data-testid="model-test-output" aria-live="polite">{text}</div>
      <div className="admin-row small muted" data-testid="model-test-state" data-state={state}>
        {stateTexts[state]}
        {stats && (
          <>
            <span data-testid="model-test-ttft">{fill(said.ttft, { ms: stats.ttftMs ?? "—" })}</span>
            <span data-testid="model-test-tps">{fill(said.tokensPerSecond, { n: stats.tokensPerSecond ? stats.tokensPerSecond.toFixed(1) : "—" })}</span>
            {stats.completionTokens !== null && <span>{fill(said.tokens, { n: stats.completionTokens })}</span>}
          </>
        )}
      </div>
      {error && <p className="error" role="alert" data-testid="model-test-error">{error}</p>}
    </div>
  );
}
