// The UI speaks Chinese and English; the choice lives in a cookie so server pages render
// in the right language on the first byte.
export const LANG_COOKIE = "leitai_lang";
export type Lang = "zh" | "en";

export function langOf(value: string | undefined): Lang {
  return value === "en" ? "en" : "zh";
}

const dict = {
  battle: { zh: "对战", en: "Battle" },
  compare: { zh: "指定对比", en: "Compare" },
  leaderboard: { zh: "排行榜", en: "Leaderboard" },
  models: { zh: "模型", en: "Models" },
  battleLog: { zh: "对战记录", en: "Battles" },
  admin: { zh: "管理", en: "Admin" },
  bankMode: { zh: "题库对战", en: "Bank battle" },
  liveMode: { zh: "自由提问", en: "Your own prompt" },
  allCategories: { zh: "全部类别", en: "All categories" },
  sideA: { zh: "模型 A", en: "Model A" },
  sideB: { zh: "模型 B", en: "Model B" },
  aBetter: { zh: "A 更好", en: "A is better" },
  bBetter: { zh: "B 更好", en: "B is better" },
  tie: { zh: "平局", en: "Tie" },
  bothBad: { zh: "都不好", en: "Both are bad" },
  reason: { zh: "理由（可选，一句话）", en: "Reason (optional, one line)" },
  nextBattle: { zh: "下一场", en: "Next battle" },
  send: { zh: "发送", en: "Send" },
  followUp: { zh: "继续追问两个模型…", en: "Ask both models a follow-up…" },
  promptPlaceholder: { zh: "输入你的问题，两个匿名模型将同时回答", en: "Type a question; two anonymous models answer it side by side" },
  waiting: { zh: "生成中…", en: "Generating…" },
  voteHint: { zh: "两个回答完成后即可投票 · 快捷键 1 / 2 / 3 / 4", en: "Vote once both answers are complete · keys 1 / 2 / 3 / 4" },
  thanks: { zh: "感谢投票！揭晓：", en: "Thanks for voting! Revealed:" },
  invalidVote: { zh: "（回答暴露了模型身份，此票不计入排名）", en: "(an answer revealed its identity; this vote is not rated)" },
  question: { zh: "问题", en: "Question" },
  sideFailed: { zh: "这个回答没能生成。", en: "This answer failed to generate." },
  sideStalled: { zh: "这个回答停止了输出。", en: "This answer stopped arriving." },
  stuckHint: {
    zh: "可以重新生成出问题的一方（仍然匿名），或换一场新的对战（本场不计入排名）。",
    en: "Re-roll the side that failed (it stays anonymous), or take a new battle (this one will not be rated).",
  },
  reroll: { zh: "重新生成", en: "Re-roll" },
  newBattle: { zh: "换一场对战", en: "New battle" },
  abandoned: { zh: "本场对战已放弃，不计入排名。", en: "This battle was left for a new one; it is not rated." },
  rank: { zh: "排名", en: "Rank" },
  model: { zh: "模型", en: "Model" },
  rating: { zh: "评分 (BT)", en: "Rating (BT)" },
  ci: { zh: "95% 置信区间", en: "95% CI" },
  elo: { zh: "在线 Elo", en: "Online Elo" },
  winRate: { zh: "胜率（不含平局）", en: "Win rate (no ties)" },
  battles: { zh: "对战数", en: "Battles" },
  votes: { zh: "票数", en: "votes" },
  updated: { zh: "更新于", en: "Last updated" },
  overall: { zh: "总榜", en: "Overall" },
  // The ratings job anchors nothing: Bradley–Terry ratings average 1000 over the rated models.
  ratingScale: { zh: "BT 评分：已评分模型的平均值为 1000（无锚定模型）", en: "BT scale: mean 1000 over the rated models (no anchor model)" },
  ratingScaleAnchored: { zh: "BT 评分：锚定", en: "BT scale: anchored at" },
  viewPlain: { zh: "默认", en: "Default" },
  viewStyle: { zh: "风格控制", en: "Style control" },
  styleExplain: {
    zh: "风格控制：在回答长度与 Markdown（标题、列表、粗体）相同的条件下比较模型。系数（每个标准差的对数几率）：",
    en: "Style control: models compared at equal answer length and markdown (headers, lists, bold). Coefficients (log-odds per standard deviation):",
  },
  styleMissing: { zh: "这次评分没有风格控制结果。", en: "This rating run has no style-controlled view." },
  dedupNote: { zh: "重复提示未计入的票数", en: "votes on over-asked prompts left out" },
  unboundedRating: {
    zh: "从未输过（或从未赢过）的模型没有有限的评分：这里只显示能成立的界限。",
    en: "A model that never lost (or never won) has no finite rating: only the bound that exists is shown.",
  },
  noRatings: { zh: "还没有评分。投几票之后再来看看。", en: "No ratings yet. Cast a few votes and come back." },
  winMatrix: { zh: "两两胜率", en: "Pairwise win rate" },
  countMatrix: { zh: "两两对战数", en: "Battle counts" },
  // Live prompts: the notice before the first one, and what the limits on live generation say.
  liveNotice: {
    zh: "提示：你输入的问题和两个模型的回答可能会公开展示，并用于排行榜和数据导出。请不要输入个人信息或敏感内容。",
    en: "Note: your prompts and both models' answers may be shown publicly and used for the leaderboard and data exports. Do not enter personal or sensitive information.",
  },
  liveNoticeOk: { zh: "知道了", en: "Got it" },
  promptEmpty: { zh: "请输入问题。", en: "Type a question first." },
  promptTooLong: { zh: "问题不能超过 {n} 个字符。", en: "The prompt is longer than {n} characters." },
  conversationTooLong: {
    zh: "一场对战的问题合计不能超过 {n} 个字符，请开始新的对战。",
    en: "A battle's prompts may total at most {n} characters; start a new battle.",
  },
  liveLimited: { zh: "自由提问太频繁了，请 {s} 秒后再试。", en: "Too many live battles for now; try again in {s} s." },
  turnLimited: { zh: "追问太频繁了，请 {s} 秒后再试。", en: "Too many follow-up questions for now; try again in {s} s." },
  modelsBusy: {
    zh: "模型都在忙着回答其他人的问题，请 {s} 秒后再试。",
    en: "The models are busy answering other voters; try again in {s} s.",
  },
} as const;

export type MessageKey = keyof typeof dict;

export function t(lang: Lang, key: MessageKey): string {
  return dict[key][lang];
}

export function messages(lang: Lang): Record<MessageKey, string> {
  return Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v[lang]])) as Record<MessageKey, string>;
}

/** A message with its `{name}` placeholders filled in. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
