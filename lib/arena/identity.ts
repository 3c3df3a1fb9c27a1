// A vote is not blind when an answer names its own model or maker ("As ChatGPT, …").
// Such votes are stored but marked invalid for ratings.

/** Names models commonly give for themselves or their makers, beyond each model's own names. */
const COMMON_NAMES = [
  "chatgpt", "gpt-4", "gpt-3.5", "openai", "claude", "anthropic", "gemini", "bard", "google",
  "llama", "meta ai", "alpaca", "vicuna", "mistral", "qwen", "通义千问", "文心一言", "百度",
  "chatglm", "智谱", "baichuan", "百川", "moss", "deepseek", "深度求索", "kimi", "月之暗面", "yi-", "零一万物",
];

export type IdentityModel = { slug: string; displayName: string; organisation: string };

function tokensOf(model: IdentityModel): string[] {
  const words = [model.slug, model.displayName, model.organisation]
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length >= 3);
  return [...new Set([...words, ...COMMON_NAMES])];
}

// Compiled once per word: the vote endpoint checks every answer of every battle.
const matchers = new Map<string, (text: string) => boolean>();

function matcherOf(word: string): (text: string) => boolean {
  let match = matchers.get(word);
  if (!match) {
    // Latin words must stand alone ("llama" but not "llamas"…); CJK names match anywhere.
    if (/^[\x20-\x7e]+$/.test(word)) {
      const re = new RegExp(`(^|[^a-z0-9])${word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^a-z0-9])`);
      match = (text) => text.includes(word) && re.test(text);
    } else {
      match = (text) => text.includes(word);
    }
    if (matchers.size > 10_000) matchers.clear();
    matchers.set(word, match);
  }
  return match;
}

/** The name an answer gives away, if any: its own model's names, its maker, or a known model name. */
export function revealedIdentity(answer: string, model: IdentityModel): string | null {
  const text = answer.toLowerCase();
  for (const word of tokensOf(model)) if (matcherOf(word)(text)) return word;
  return null;
}
