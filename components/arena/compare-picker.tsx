"use client";

import { useState } from "react";
import type { Lang } from "@/lib/i18n/lang";
import { BattleArena, type ArenaMessages } from "./battle-arena";

type PickableModel = { slug: string; displayName: string };

export function ComparePicker(props: { m: ArenaMessages; lang: Lang; models: PickableModel[]; promptMaxChars: number }) {
  const { models, m } = props;
  const [modelA, setModelA] = useState(models[0]?.slug ?? "");
  const [modelB, setModelB] = useState(models[1]?.slug ?? "");
  if (models.length < 2) {
    return <p className="card" data-testid="compare-not-enough">{m.arena.compareNeedsTwo}</p>;
  }
  return (
    <div>
      <p className="muted">{m.arena.compareExplain}</p>
      <div className="compare-pick">
        <select value={modelA} onChange={(e) => setModelA(e.target.value)} data-testid="compare-model-a" aria-label={m.arena.sideA}>
          {models.map((model) => <option key={model.slug} value={model.slug}>{model.displayName}</option>)}
        </select>
        <span>vs</span>
        <select value={modelB} onChange={(e) => setModelB(e.target.value)} data-testid="compare-model-b" aria-label={m.arena.sideB}>
          {models.map((model) => <option key={model.slug} value={model.slug}>{model.displayName}</option>)}
        </select>
      </div>
      <BattleArena key={`${modelA}|${modelB}`} {...props} categories={[]} named={{ modelA, modelB }} />
    </div>
  );
}
