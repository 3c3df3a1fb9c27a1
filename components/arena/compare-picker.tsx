"use client";

import { useState } from "react";
import type { MessageKey } from "@/lib/i18n";
import { BattleArena } from "./battle-arena";

type PickableModel = { slug: string; displayName: string };

export function ComparePicker(props: { m: Record<MessageKey, string>; lang: "zh" | "en"; models: PickableModel[]; promptMaxChars: number }) {
  const { models, lang } = props;
  const [modelA, setModelA] = useState(models[0]?.slug ?? "");
  const [modelB, setModelB] = useState(models[1]?.slug ?? "");
  if (models.length < 2) {
    return <p className="card" data-testid="compare-not-enough">{lang === "zh" ? "至少需要两个模型才能对比。" : "Comparing needs at least two models."}</p>;
  }
  return (
    <div>
      <p className="muted">{lang === "zh" ? "指定两个模型对比；此模式的投票会保存，但不计入排名。输入问题，或留空使用题库问题。" : "Pick two models. Votes here are kept but never rated. Type a prompt, or leave it empty for a bank question."}</p>
      <div className="compare-pick">
        <select value={modelA} onChange={(e) => setModelA(e.target.value)} data-testid="compare-model-a" aria-label="A">
          {models.map((m) => <option key={m.slug} value={m.slug}>{m.displayName}</option>)}
        </select>
        <span>vs</span>
        <select value={modelB} onChange={(e) => setModelB(e.target.value)} data-testid="compare-model-b" aria-label="B">
          {models.map((m) => <option key={m.slug} value={m.slug}>{m.displayName}</option>)}
        </select>
      </div>
      <BattleArena key={`${modelA}|${modelB}`} {...props} categories={[]} named={{ modelA, modelB }} />
    </div>
  );
}
