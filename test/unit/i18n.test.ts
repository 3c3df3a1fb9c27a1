import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { AppError, errorPayload, errors } from "@/lib/errors";
import { fill, knownErrorText, langFromAcceptLanguage, LANGS, messages, t } from "@/lib/i18n";

const ROOT = path.resolve(__dirname, "../..");

// The public site, the admin area and the errors their readers see: every word of Chinese in them
// comes from the zh catalogue (lib/i18n/zh.ts and its admin parts in lib/i18n/admin).
const PUBLIC_SITE = [
  "app/page.tsx",
  "app/layout.tsx",
  "app/not-found.tsx",
  "app/forbidden.tsx",
  "app/battle",
  "app/compare",
  "app/leaderboard",
  "app/models",
  "app/battles",
  "app/questions",
  "app/signin",
  "app/signup",
  "app/account",
  "app/api/battles",
  "app/api/signup",
  "app/api/account",
  "components/arena",
  "components/browse",
  "components/leaderboard",
  "components/account",
  "components/lang-switch.tsx",
  "components/markdown.tsx",
  "lib/arena/battles.ts",
  "lib/arena/battle-view.ts",
  "lib/arena/votes.ts",
  "lib/arena/reroll.ts",
  "lib/arena/rate-limit.ts",
  "lib/arena/live-capacity.ts",
  "lib/accounts",
  "lib/users.ts",
  "lib/errors.ts",
  "lib/http.ts",
  "lib/lang-server.ts",
];

const ADMIN_AREA = ["app/admin", "components/admin", "lib/admin", "lib/web", "lib/schemas", "lib/auth/access.ts", "lib/judge/runs.ts", "lib/pipeline/pregen.ts"];

/** CJK ideographs (with extension A and compatibility), CJK punctuation, full-width forms. */
const CHINESE = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]/u;

function sourceFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (statSync(full).isFile()) return [entry];
  return readdirSync(full, { recursive: true, encoding: "utf8" })
    .filter((name) => /\.tsx?$/.test(name))
    .map((name) => path.join(entry, name));
}

/** Each string literal, template part and JSX text of a source with Chinese in it, as `line: text`. */
function chineseStrings(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, fileName.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node) || ts.isJsxText(node)) {
      if (CHINESE.test(node.text)) found.push(`${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}: ${node.text.trim()}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("the catalogues", () => {
  const [zh, en] = [messages("zh"), messages("en")];

  it("have the same sections and keys, and no empty message", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    for (const lang of LANGS) {
      for (const [section, entries] of Object.entries(messages(lang))) {
        expect(Object.keys(entries).sort(), `${lang}.${section}`).toEqual(Object.keys(zh[section as keyof typeof zh]).sort());
        for (const [key, text] of Object.entries(entries)) expect((text as string).trim(), `${lang}.${section}.${key}`).not.toBe("");
      }
    }
  });

  it("fill the same placeholders in both languages", () => {
    for (const [section, entries] of Object.entries(zh)) {
      for (const [key, text] of Object.entries(entries)) {
        const other = (en[section as keyof typeof en] as Record<string, string>)[key]!;
        expect(placeholders(other), `${section}.${key}`).toEqual(placeholders(text as string));
      }
    }
  });

  it("are reached by t(lang, key), and fill() leaves unknown placeholders alone", () => {
    expect(t("zh", "nav.leaderboard")).toBe("排行榜");
    expect(t("en", "nav.leaderboard")).toBe("Leaderboard");
    expect(fill(t("en", "errors.promptTooLong"), { n: 50 })).toBe("The prompt is longer than 50 characters.");
    expect(fill("{a} and {b}", { a: 1 })).toBe("1 and {b}");
  });
});

describe("the public site and the admin area", () => {
  it("keep their Chinese in the zh catalogue: no string literal or JSX text of their files holds any", () => {
    const offenders: string[] = [];
    let scanned = 0;
    for (const entry of [...PUBLIC_SITE, ...ADMIN_AREA]) {
      expect(existsSync(path.join(ROOT, entry)), `${entry} is listed but missing: update the list`).toBe(true);
      for (const file of sourceFiles(entry)) {
        scanned++;
        for (const hit of chineseStrings(file, readFileSync(path.join(ROOT, file), "utf8"))) offenders.push(`${file}:${hit}`);
      }
    }
    expect(scanned).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });

  it("is scanned by a check that finds Chinese in strings, templates and JSX text, and not in comments", () => {
    const source = [
      "// 注释里可以有中文",
      'const a = "对战";',
      "const b = `第 ${n} 轮`;",
      "const c = <p>排行榜</p>;",
      'const d = <input placeholder="输入" />;',
      'const e = "Battle";',
    ].join("\n");
    expect(chineseStrings("sample.tsx", source)).toEqual(["2: 对战", "3: 第", "3: 轮", "4: 排行榜", "5: 输入"]);
  });
});

describe("a refusal from the catalogue", () => {
  it("is said in the reader's language and names its key for the page", () => {
    const error = errors.conflict("vote", { key: "voteIncomplete" });
    expect(error.message).toBe("Both answers must be complete before you vote."); // the log's
    expect(errorPayload(error, "zh").body.error).toMatchObject({ code: "conflict:vote", message: "两个回答都完成后才能投票。", key: "voteIncomplete" });
    expect(errorPayload(error, "en").body.error.message).toBe("Both answers must be complete before you vote.");
    const limited = errors.rateLimited("vote", 7);
    expect(errorPayload(limited, "zh").body.error).toMatchObject({ message: "操作太频繁了，请 7 秒后再试。", key: "tooManyRequests", values: { s: 7 } });
    // Plain text stays as it is, in every language.
    expect(errorPayload(new AppError("bad_request:input", "x: required"), "zh").body.error).toEqual({ code: "bad_request:input", message: "x: required" });
  });

  it("is said again by a page in its own language; a key the page lacks leaves the server's text", () => {
    const { body } = errorPayload(errors.unavailable("capacity", { key: "modelsBusy", values: { s: 10 } }, 10), "zh");
    expect(knownErrorText(body.error, messages("en").errors)).toBe("The models are busy answering other voters; try again in 10 s.");
    expect(knownErrorText({ key: "noSuchKey" }, messages("en").errors)).toBeUndefined();
    expect(knownErrorText({ key: "toString" }, messages("en").errors)).toBeUndefined();
    expect(knownErrorText({}, messages("en").errors)).toBeUndefined();
  });
});

describe("Accept-Language on a first visit", () => {
  it.each([
    ["en-US,en;q=0.9", "en"],
    ["zh-CN,zh;q=0.9,en;q=0.8", "zh"],
    ["EN-gb", "en"],
    ["zh-Hant-TW", "zh"],
    ["fr-FR,fr;q=0.9,en;q=0.8,zh;q=0.7", "en"],
    ["en;q=0.5, zh-TW;q=0.8", "zh"],
    ["ja, en-US ; q=0.4, zh ;q=0.3", "en"],
    ["en, zh", "en"],
    ["zh, en", "zh"],
    ["en;q=0, fr", "zh"],
    ["en;q=abc, zh;q=0.2", "zh"],
    ["en;q=1.5, zh;q=0.2", "zh"],
    ["en;q=1.000", "en"],
    ["de, *;q=0.5", "zh"],
    ["*", "zh"],
    ["english", "zh"],
    ["", "zh"],
    [null, "zh"],
  ] as const)("%j → %s", (header, lang) => {
    expect(langFromAcceptLanguage(header)).toBe(lang);
  });
});
