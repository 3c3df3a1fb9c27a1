import type { Lang } from "@/lib/i18n";

// The leaderboard's own sentences, in both languages (numbers filled in by the caller).

export const leaderboardCopy = {
  rule: {
    zh: "排序：先按排名（1 + 整个 95% 置信区间都高于本模型的模型数），再按评分，“> x”与“< x”按 x 计；从未输过的模型绝不排在它赢过的模型之下，从未赢过的模型也不排在同一名次里赢过它的模型之上。",
    en: "Order: by rank (1 + the number of models whose whole 95% interval lies above this one's), then by rating, with “> x” and “< x” counted as x; a model that never lost is never listed below a model it beat, nor one that never won above a model of its rank that beat it.",
  },
  provisionalTitle: { zh: "暂定（未排名）", en: "Provisional (not ranked)" },
  provisionalExplain: {
    zh: (n: number) => `对战少于 ${n} 场（或结果还给不出评分）的模型单独列在这里，不给排名：这时的评分会上下摆动几百分。`,
    en: (n: number) => `Models with fewer than ${n} battles (or whose results give no rating yet) are listed here, without a rank: their ratings would still swing by hundreds of points.`,
  },
  noneRanked: {
    zh: (n: number) => `还没有模型打满 ${n} 场对战，所以还没有排名。`,
    en: (n: number) => `No model has ${n} battles yet, so nobody is ranked.`,
  },
  record: { zh: "胜–负–平", en: "Won–lost–tied" },
  moreBattles: { zh: (k: number) => `还差 ${k} 场`, en: (k: number) => `${k} more` },
  chartLegend: {
    zh: "● 评分　━ 95% 置信区间　▶ 区间一侧无界（从未输过或从未赢过）",
    en: "● rating   ━ 95% interval   ▶ open side (never lost, or never won)",
  },
  chartEmpty: { zh: "还没有已排名的模型。", en: "No ranked models yet." },
} as const;

export function copy<K extends keyof typeof leaderboardCopy>(lang: Lang, key: K): (typeof leaderboardCopy)[K][Lang] {
  return (leaderboardCopy[key] as Record<Lang, (typeof leaderboardCopy)[K][Lang]>)[lang];
}
