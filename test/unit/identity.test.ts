import { describe, expect, it } from "vitest";
import { revealedIdentity } from "@/lib/arena/identity";

const model = { slug: "chinese-alpaca-2-7b", displayName: "Chinese-Alpaca-2-7B", organisation: "HFL" };

describe("identity leaks", () => {
  it("finds the model's own names and its maker's", () => {
    expect(revealedIdentity("我是Chinese-Alpaca-2-7B，一个语言模型。", model)).toBe("chinese-alpaca-2-7b");
    expect(revealedIdentity("I was trained by HFL.", model)).toBe("hfl");
  });

  it("finds well-known model and organisation names, Chinese ones too", () => {
    expect(revealedIdentity("As ChatGPT, I cannot do that.", model)).toBe("chatgpt");
    expect(revealedIdentity("我是通义千问。", model)).toBe("通义千问");
  });

  it("does not fire on ordinary words that merely contain a name", () => {
    expect(revealedIdentity("Llamas and alpacas live in the Andes.", model)).toBeNull();
    expect(revealedIdentity("长城是一道古老的防线。", model)).toBeNull();
  });
});
