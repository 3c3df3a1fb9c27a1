import { describe, expect, it } from "vitest";
import { z } from "zod";
import { errorPayload } from "@/lib/errors";
import { parseJson, parseQuery, queryOf, route } from "@/lib/http";
import type { Lang } from "@/lib/i18n";
import { assertCleanText, findTextProblem, queryInt, textProblem } from "@/lib/input";

/** The 400 a client gets for what `run` throws (worded in `lang`), or null when it passes. */
function rejection(run: () => unknown, lang: Lang = "en") {
  try {
    run();
    return null;
  } catch (error) {
    const { status, body } = errorPayload(error, lang);
    return { status, code: body.error.code, field: body.error.field, message: body.error.message };
  }
}

describe("text a client sends", () => {
  it("finds NUL and unpaired surrogates, and passes real text (CJK, emoji, combining marks)", () => {
    expect(textProblem("abc\u0000def")).toBe("nul");
    expect(textProblem("\uD800")).toBe("surrogate");
    expect(textProblem("x\uDC00")).toBe("surrogate");
    expect(textProblem("\uDBFF\uD800")).toBe("surrogate"); // two highs: the first is alone
    for (const fine of ["", "擂台 ⚔️", "emoji 😀 pair", "e\u0301", "tab\tnewline\n"]) expect(textProblem(fine)).toBeNull();
  });

  it("is a 400 naming the field, nested paths dotted like schema errors, in the reader's language", () => {
    expect(rejection(() => assertCleanText({ winner: "A", reason: "bad\u0000" }))).toEqual({
      status: 400, code: "bad_request:input", field: "reason", message: "reason: must not contain NUL characters (U+0000)",
    });
    expect(rejection(() => assertCleanText({ reason: "bad\u0000" }), "zh")?.message).toBe("reason 不能含有 NUL 字符（U+0000）");
    expect(rejection(() => assertCleanText({ prompt: "\uD83D" }), "zh")?.message).toBe("prompt 不能含有不成对的 UTF-16 代理项");
    expect(rejection(() => assertCleanText({ "k\u0000": 1 }), "zh")?.message).toBe("body 中的键名不能含有 NUL 字符（U+0000）");
    expect(rejection(() => assertCleanText({ messages: [{ content: "ok" }, { content: "\uD83D" }] }))?.field).toBe("messages.1.content");
    expect(rejection(() => assertCleanText({ nested: { "k\u0000": 1 } }))?.field).toBe("nested");
    expect(rejection(() => assertCleanText("\u0000"))?.field).toBe("body");
    expect(rejection(() => assertCleanText({ a: 1, b: null, c: [true, "fine"] }))).toBeNull();
  });

  it("findTextProblem reports instead of throwing (importers list it per line)", () => {
    expect(findTextProblem({ conversation_a: [{ content: "x\u0000" }] }, { root: "(row)" })).toEqual({
      field: "conversation_a.0.content", key: "textNul", values: { field: "conversation_a.0.content" },
      message: "conversation_a.0.content: must not contain NUL characters (U+0000)",
    });
    expect(findTextProblem({ ["\uDC00"]: "x" }, { root: "line" })).toMatchObject({ field: "line", key: "keySurrogate" });
    expect(findTextProblem({ text: "fine" })).toBeNull();
  });
});

describe("lib/http parsing", () => {
  const json = (body: string) => new Request("http://arena.test/api/x", { method: "POST", body, headers: { "content-type": "application/json" } });

  it("parseJson checks the text before the schema (a NUL escaped in JSON is caught)", async () => {
    const schema = z.object({ mode: z.literal("live"), prompt: z.string() });
    await expect(parseJson(json('{"mode":"live","prompt":"hi\\u0000there"}'), schema)).rejects.toMatchObject({ status: 400, details: { field: "prompt" } });
    await expect(parseJson(json('{"mode":"live","prompt":"\\ud800"}'), schema)).rejects.toMatchObject({ status: 400, details: { field: "prompt" } });
    await expect(parseJson(json('{"mode":"live","prompt":"你好"}'), schema)).resolves.toEqual({ mode: "live", prompt: "你好" });
  });

  it("parseQuery checks query text and bounds integers", () => {
    const schema = z.object({ categoryId: z.string().optional(), turn: queryInt({ max: 10_000 }).default(0), page: z.coerce.number().optional() });
    const at = (qs: string) => new Request(`http://arena.test/api/x?${qs}`);
    expect(rejection(() => parseQuery(at("categoryId=abc%00def"), schema))?.field).toBe("categoryId");
    expect(rejection(() => parseQuery(at("turn=2147483648"), schema))).toMatchObject({ status: 400, field: "turn" });
    expect(rejection(() => parseQuery(at("turn=10001"), schema))?.field).toBe("turn");
    // A schema without a bound still gets the Int32 last line.
    expect(rejection(() => parseQuery(at("page=99999999999"), schema))).toMatchObject({ status: 400, field: "page", message: "page: must be between -2147483647 and 2147483647" });
    expect(rejection(() => parseQuery(at("page=99999999999"), schema), "zh")?.message).toBe("page 必须在 -2147483647 到 2147483647 之间");
    expect(parseQuery(at("turn=3&page=2"), schema)).toEqual({ turn: 3, page: 2 });
    expect(rejection(() => queryOf(at("q=%00")))?.field).toBe("q");
  });

  it("route() answers a NUL in a path id with a 400 naming it, without running the handler", async () => {
    let ran = 0;
    const handler = route(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
      ran++;
      return Response.json({ id: (await params).id });
    });
    const request = new Request("http://arena.test/api/battles/x");
    const bad = await handler(request, { params: Promise.resolve({ id: "abc\u0000def" }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "bad_request:input", field: "id" } });
    expect(ran).toBe(0);
    const good = await handler(request, { params: Promise.resolve({ id: "b1" }) });
    expect(await good.json()).toEqual({ id: "b1" });
  });
});
