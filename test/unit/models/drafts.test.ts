import { describe, expect, it } from "vitest";
import { draftArgs, runtimeDraftsOf, sameDrafts } from "@/lib/models/drafts";
import { localEngineSchema } from "@/lib/models/engine";

const RUNTIME = "http://127.0.0.1:8000";
let clock = 0;
function row(slug: string, engine: Record<string, unknown>, extra: { kind?: "local" | "openai"; status?: "active" | "disabled" | "retired" } = {}) {
  clock += 1000;
  return {
    slug,
    kind: extra.kind ?? "local",
    status: extra.status ?? "active",
    engine: { path: `/models/${slug}`, runtimeUrl: RUNTIME, ...engine },
    updatedAt: new Date(clock),
  } as const;
}

describe("drafts from the admin's model settings", () => {
  it("keeps one draft per served model of this runtime, the most recently saved row's", () => {
    const rows = [
      row("alpaca-7b", { draftPath: "/drafts/alpaca-1.3b", numSpeculativeTokens: 5 }),
      row("plain", {}), // no draft
      row("elsewhere", { draftPath: "/drafts/x", runtimeUrl: "http://10.0.0.2:8000" }), // another runtime
      row("old", { draftPath: "/drafts/old" }, { status: "retired" }),
      row("remote", { draftPath: "/drafts/y" }, { kind: "openai" }),
      row("alpaca-7b-hot", { servedName: "alpaca-7b", draftPath: "/drafts/other", numSpeculativeTokens: 3, runtimeUrl: `${RUNTIME}/v1/` }),
      row("alpaca-7b-same", { servedName: "alpaca-7b", draftPath: "/drafts/other", numSpeculativeTokens: 3 }, { status: "disabled" }),
      row("unserved", { draftPath: "/drafts/z" }),
    ];
    const { drafts, skipped } = runtimeDraftsOf(rows, { runtimeUrl: `${RUNTIME}/`, servedNames: ["alpaca-7b", "plain"] });
    // alpaca-7b-same was saved last; alpaca-7b-hot agrees with it, the original row does not.
    expect(drafts).toEqual([{ servedName: "alpaca-7b", path: "/drafts/other", numSpeculativeTokens: 3 }]);
    expect(skipped).toEqual([
      { slug: "unserved", reason: "the supervised runtime does not serve unserved (it serves: alpaca-7b, plain)" },
      { slug: "alpaca-7b", reason: "alpaca-7b-same, saved later, sets another draft for alpaca-7b" },
    ]);
  });

  it("turns drafts into runtime arguments that keep the runtime up when a draft fails", () => {
    expect(draftArgs([])).toEqual([]);
    const drafts = [
      { servedName: "a", path: "/d/a", numSpeculativeTokens: 4 },
      { servedName: "b", path: "/d/b b", numSpeculativeTokens: 2 },
    ];
    expect(draftArgs(drafts)).toEqual([
      "--draft", "a=/d/a", "--num-speculative-tokens", "a=4",
      "--draft", "b=/d/b b", "--num-speculative-tokens", "b=2",
      "--on-draft-error", "serve",
    ]);
    expect(sameDrafts(drafts, [...drafts])).toBe(true);
    expect(sameDrafts(drafts, [drafts[0]!, { ...drafts[1]!, numSpeculativeTokens: 3 }])).toBe(false);
    expect(sameDrafts(drafts, drafts.slice(1))).toBe(false);
  });

  it("validates the draft settings with a message per field", () => {
    const parsed = localEngineSchema.parse({ path: "/m" });
    expect(parsed).toMatchObject({ draftPath: null, numSpeculativeTokens: 4 });
    expect(localEngineSchema.parse({ path: "/m", draftPath: "  /d  " }).draftPath).toBe("/d");
    for (const [k, message] of [[0, "tooSmall"], [17, "tooLarge"], [2.5, "wholeNumber"]] as const) {
      const result = localEngineSchema.safeParse({ path: "/m", draftPath: "/d", numSpeculativeTokens: k });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(["numSpeculativeTokens"]);
      expect(result.error?.issues[0]?.message).toBe(message);
    }
  });
});
