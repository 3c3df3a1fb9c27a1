"use client";

import { useState } from "react";
import { callApi } from "./api";

type Settings = { anchorModelId: string | null; anchorRating: number; dedupThreshold: number; minBattlesRanked: number };

/** Anchor of the Bradley–Terry scale, the live-prompt de-duplication threshold and the battles before a model is ranked; saving recomputes. */
export function RatingSettingsForm({ initial, models }: { initial: Settings; models: { id: string; label: string }[] }) {
  const [anchorModelId, setAnchorModelId] = useState(initial.anchorModelId ?? "");
  const [anchorRating, setAnchorRating] = useState(String(initial.anchorRating));
  const [dedupThreshold, setDedupThreshold] = useState(String(initial.dedupThreshold));
  const [minBattlesRanked, setMinBattlesRanked] = useState(String(initial.minBattlesRanked));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  async function save(event: React.FormEvent) {
    event.preventDefault();
    setSaving(true);
    setMessage(null);
    const body = { anchorModelId: anchorModelId || null, anchorRating: Number(anchorRating), dedupThreshold: Number(dedupThreshold), minBattlesRanked: Number(minBattlesRanked) };
    const result = await callApi<{ jobId: string }>("/api/admin/ratings/settings", { method: "PUT", body });
    setSaving(false);
    setMessage(result.ok ? { ok: true, text: "已保存，正在重新计算。Saved; recomputing the ratings." } : { ok: false, text: result.error.message });
  }
  return (
    <form className="card admin-form" onSubmit={save} data-testid="rating-settings">
      <label>
        锚定模型 Anchor model
        <select value={anchorModelId} onChange={(e) => setAnchorModelId(e.target.value)} data-testid="rating-anchor-model">
          <option value="">无：平均 1000 None: mean 1000</option>
          {models.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
        </select>
      </label>
      <label>
        锚定评分 Anchor rating
        <input type="number" step="any" min={0} max={10000} value={anchorRating} onChange={(e) => setAnchorRating(e.target.value)} disabled={!anchorModelId} data-testid="rating-anchor-rating" />
      </label>
      <label>
        每个提示最多计票 Votes counted per live prompt (0: no de-duplication)
        <input type="number" step={1} min={0} value={dedupThreshold} onChange={(e) => setDedupThreshold(e.target.value)} data-testid="rating-dedup-threshold" />
      </label>
      <label>
        排名所需最少对战数 Battles before a model is ranked (fewer: listed as provisional)
        <input type="number" step={1} min={1} value={minBattlesRanked} onChange={(e) => setMinBattlesRanked(e.target.value)} data-testid="rating-min-battles" />
      </label>
      <button type="submit" disabled={saving} data-testid="rating-settings-save">{saving ? "保存中… Saving…" : "保存 Save"}</button>
      {message && <span className={message.ok ? "small" : "error small"} data-testid="rating-settings-message">{message.text}</span>}
    </form>
  );
}
