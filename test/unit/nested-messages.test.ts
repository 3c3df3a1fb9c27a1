import { describe, expect, it } from "vitest";
import { checked, checkIn } from "@/lib/admin/model-check";
import { importIssueTexts } from "@/lib/admin/questions-import";
import { adminRefusalError } from "@/lib/auth/access";
import { AppError, errorPayload, errors } from "@/lib/errors";
import { knownErrorText, messages, sayError } from "@/lib/i18n";

// A catalogue message whose values are messages in turn (a model check's note and reason): said
// whole in one language, by the server and by a page that has the keys.

const CHINESE = /[\u4e00-\u9fff]/u;

const unreachable = {
  key: "checkPathMissing",
  values: {
    note: { key: "checkRuntimeUnreachable", values: { runtime: "http://10.0.0.2:8000", reason: { key: "checkNoAnswer", values: { s: 5 } } } },
    path: "/models/7b.gguf",
  },
} as const;

describe("a message with messages inside", () => {
  it("is said whole in each language", () => {
    expect(sayError("en", unreachable)).toBe("the runtime at http://10.0.0.2:8000 is not reachable: no answer within 5 s, and /models/7b.gguf does not exist on this machine.");
    expect(sayError("zh", unreachable)).toBe("无法连接 http://10.0.0.2:8000 的运行时：5 秒内没有应答，而且本机上没有 /models/7b.gguf。");
  });

  it("is said again by a page only when it has every key inside", () => {
    expect(knownErrorText(unreachable, messages("zh").errors)).toBe(sayError("zh", unreachable));
    const { checkNoAnswer: _dropped, ...lacking } = messages("en").errors;
    expect(knownErrorText(unreachable, lacking)).toBeUndefined();
    expect(knownErrorText({ key: "checkRemoteRuntime", values: { note: { key: "toString" } } }, messages("en").errors)).toBeUndefined();
  });

  it("as a refusal: a model that cannot be enabled says why in the reader's language, and names its keys", () => {
    const error = new AppError("conflict:model_unreachable", { key: "modelNotEnabled", values: { reason: unreachable } }, { field: "engine.path" });
    expect(error.message).toBe(`Not enabled: ${sayError("en", unreachable)}`); // the log's
    const zh = errorPayload(error, "zh").body.error;
    expect(zh).toMatchObject({ code: "conflict:model_unreachable", field: "engine.path", key: "modelNotEnabled", values: { reason: unreachable } });
    expect(zh.message).toBe(`未启用：${sayError("zh", unreachable)}`);
    expect(zh.message).not.toMatch(/\b(the|runtime|reachable|answer)\b/);
  });
});

describe("a model check", () => {
  it("keeps its keys, with the English message, and is said in the reader's language by the API", () => {
    const check = checked(false, unreachable, "engine.path");
    expect(check).toEqual({ ok: false, field: "engine.path", ...unreachable, message: sayError("en", unreachable) });
    expect(checkIn("zh", check)).toEqual({ ...check, message: sayError("zh", unreachable) });
    expect(checked(true, { key: "checkOffline" })).toEqual({ ok: true, key: "checkOffline", values: {}, message: "offline model: no engine to reach; import its answers" });
    expect(checkIn("zh", checked(true, { key: "checkOffline" })).message).toMatch(CHINESE);
  });
});

describe("an import report's texts", () => {
  it("hold the import issues and the unstorable-text errors, in one language", () => {
    for (const lang of ["zh", "en"] as const) {
      const texts = importIssueTexts(messages(lang));
      expect(texts.textNul).toBe(messages(lang).errors.textNul);
      expect(texts.keySurrogate).toBe(messages(lang).errors.keySurrogate);
      expect(texts.csvUnclosedQuote).toBe(messages(lang).adminImportIssues.csvUnclosedQuote);
      expect(Object.values(texts).every((text) => CHINESE.test(text) === (lang === "zh"))).toBe(true);
    }
  });
});

describe("a refusal's default text", () => {
  it("comes from the catalogue, in the reader's language", () => {
    expect(errorPayload(errors.notFound("model"), "zh").body.error).toMatchObject({ code: "not_found:model", key: "noSuchModel", message: "没有这个模型。" });
    expect(errorPayload(errors.notFound("judge_run"), "en").body.error.message).toBe("No such judge run.");
    expect(errorPayload(errors.notFound("widget"), "zh").body.error).toMatchObject({ key: "notFound", message: "没有找到。" });
    expect(errorPayload(errors.unauthorized(), "zh").body.error).toMatchObject({ key: "signInFirst", message: "请先登录。" });
    expect(errorPayload(adminRefusalError("not_admin"), "en").body.error).toMatchObject({ code: "forbidden:admin", message: "Admins only." });
    expect(errorPayload(adminRefusalError("password_change_required"), "zh").body.error.message).toMatch(CHINESE);
  });
});
