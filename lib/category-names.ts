// A category answers to its slug, its Chinese and English names and its aliases, compared by
// key: NFKC (full width → half width), lower case, and every run of separators ("、", "，",
// ",", "/", "·", "・", white space) as one space — "数值计算、推理", "数值计算 / 推理" and
// "数值计算，推理" are one name. Pure functions, so the import and the admin checks agree.

export type NamedCategory = { id: string; slug: string; nameZh: string; nameEn: string; aliases: string[]; sortOrder?: number };

const SEPARATORS = /[\s、，,/·・]+/gu;

export function categoryNameKey(name: string): string {
  return name.normalize("NFKC").toLowerCase().replace(SEPARATORS, " ").trim();
}

/** Every name a category answers to, slug and names first. */
export function categoryNames(category: Pick<NamedCategory, "slug" | "nameZh" | "nameEn" | "aliases">): string[] {
  return [category.slug, category.nameZh, category.nameEn, ...category.aliases];
}

/**
 * Key → category id. Slugs win over names and names over aliases, so a name an admin gives a
 * new category is never shadowed by an older category's alias; within a rank the first wins.
 */
export function categoryKeyIndex(categories: NamedCategory[]): Map<string, string> {
  const byKey = new Map<string, string>();
  const ranks: ((c: NamedCategory) => string[])[] = [(c) => [c.slug], (c) => [c.nameZh, c.nameEn], (c) => c.aliases];
  for (const namesOf of ranks) {
    for (const c of categories) {
      for (const name of namesOf(c)) {
        const key = categoryNameKey(name);
        if (key && !byKey.has(key)) byKey.set(key, c.id);
      }
    }
  }
  return byKey;
}

/** Levenshtein distance over code points, one row at a time. */
export function editDistance(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  if (!s.length) return t.length;
  if (!t.length) return s.length;
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[t.length]!;
}

/** Longer inputs are cut to this before comparing: no name is longer than an alias may be. */
const COMPARED_CHARS = 64;

/**
 * The categories whose names are nearest to `value` by edit distance over keys (a name that
 * contains the value, or is contained in it, counts as one edit away), nearest first; ties go
 * by sort order, then slug.
 */
export function closestCategories<C extends NamedCategory>(value: string, categories: C[], count = 3): C[] {
  const key = [...categoryNameKey(value)].slice(0, COMPARED_CHARS).join("");
  if (!key) return [];
  const scored = categories.map((category) => {
    let best = Infinity;
    for (const name of categoryNames(category)) {
      const other = categoryNameKey(name);
      if (!other) continue;
      const contains = key.length >= 2 && (other.includes(key) || key.includes(other));
      best = Math.min(best, contains ? Math.min(1, editDistance(key, other)) : editDistance(key, other));
    }
    return { category, best };
  });
  scored.sort((a, b) => a.best - b.best || (a.category.sortOrder ?? 0) - (b.category.sortOrder ?? 0) || a.category.slug.localeCompare(b.category.slug));
  return scored.filter((s) => Number.isFinite(s.best)).slice(0, count).map((s) => s.category);
}

/** How a suggestion reads in a message: `数值计算与推理 (math-reasoning)`. */
export function categoryLabel(category: Pick<NamedCategory, "slug" | "nameZh">): string {
  return `${category.nameZh} (${category.slug})`;
}

/** The admin form's aliases box: one alias a line, or several on a line separated by commas. */
export function parseAliasText(text: string): string[] {
  return text.split(/[\n,，]/u).map((a) => a.trim()).filter(Boolean);
}

/** `current` in its order, then each of `added` whose normalised form is new. */
export function mergeAliases(current: string[], added: string[]): string[] {
  const seen = new Set(current.map(categoryNameKey));
  const merged = [...current];
  for (const alias of added) {
    const key = categoryNameKey(alias);
    if (seen.has(key)) continue;
    seen.add(key);
    merged.push(alias);
  }
  return merged;
}
