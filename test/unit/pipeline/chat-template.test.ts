import { describe, expect, it } from "vitest";
import { generationParamsOf, localEngineSchema } from "@/lib/models/engine";
import { DEFAULT_GENERATION_PARAMS } from "@/lib/pipeline/contracts";
import { chatRequestBody } from "@/lib/pipeline/engine-client";
import { engineTargetOf, type EngineModel } from "@/lib/pipeline/engine-target";

// A local model's chat template reaches the runtime as its `chat_template` extension field;
// "auto" sends none (the runtime decides) and OpenAI-compatible engines never get it.

const RUNTIME = "http://127.0.0.1:8000";
const JINJA = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n";

const local = (engine: Record<string, unknown>): EngineModel => ({
  slug: "m", kind: "local", apiKeyEncrypted: null, engine: { path: "/w.gguf", runtimeUrl: RUNTIME, ...engine },
});

function bodyOf(model: EngineModel): Record<string, unknown> {
  return chatRequestBody(engineTargetOf(model), [{ role: "user", content: "hi" }], generationParamsOf(null));
}

describe("chat template in the engine request", () => {
  it("auto (and a row without the field) sends none", () => {
    expect(bodyOf(local({ chatTemplate: "auto" }))).not.toHaveProperty("chat_template");
    expect(bodyOf(local({}))).not.toHaveProperty("chat_template");
  });

  it("a named template is sent by name; rows that stored alpaca2 keep it", () => {
    expect(bodyOf(local({ chatTemplate: "model" })).chat_template).toBe("model");
    expect(bodyOf(local({ chatTemplate: "alpaca2" })).chat_template).toBe("alpaca2");
    expect(bodyOf(local({ chatTemplate: "llama2-chat" })).chat_template).toBe("llama2-chat");
    expect(bodyOf(local({ chatTemplate: "plain" })).chat_template).toBe("plain");
  });

  it("custom sends the Jinja source itself", () => {
    expect(bodyOf(local({ chatTemplate: "custom", chatTemplateJinja: JINJA })).chat_template).toBe(JINJA);
  });

  it("a stored Jinja draft is not sent while another template is chosen", () => {
    expect(bodyOf(local({ chatTemplate: "auto", chatTemplateJinja: JINJA }))).not.toHaveProperty("chat_template");
  });

  it("openai-kind models never get it", () => {
    const remote: EngineModel = { slug: "r", kind: "openai", apiKeyEncrypted: null, engine: { baseUrl: "https://api.example.com/v1", remoteModel: "x", chatTemplate: "model" } };
    expect(bodyOf(remote)).not.toHaveProperty("chat_template");
  });
});

describe("local engine schema", () => {
  const issue = (engine: Record<string, unknown>) => localEngineSchema.safeParse({ path: "/w", ...engine }).error?.issues[0];

  it("defaults to auto with no Jinja", () => {
    expect(localEngineSchema.parse({ path: "/w" })).toMatchObject({ chatTemplate: "auto", chatTemplateJinja: null });
  });

  it("custom needs non-empty Jinja source, named on the chatTemplateJinja field", () => {
    for (const jinja of [null, "", "   \n"]) {
      expect(issue({ chatTemplate: "custom", chatTemplateJinja: jinja })).toMatchObject({ path: ["chatTemplateJinja"], message: "customTemplateNeedsJinja" });
    }
    expect(issue({ chatTemplate: "custom", chatTemplateJinja: "plain" })?.message).toBe("customTemplateNotJinja");
    expect(issue({ chatTemplate: "custom", chatTemplateJinja: JINJA })).toBeUndefined();
    expect(issue({ chatTemplate: "custom", chatTemplateJinja: `{{ x }}${" ".repeat(20_000)}` })?.path).toEqual(["chatTemplateJinja"]);
  });

  it("rejects unknown template names", () => {
    expect(issue({ chatTemplate: "chatml" })?.path).toEqual(["chatTemplate"]);
  });
});

describe("generation defaults", () => {
  it("carry an optional integer seed into the params", () => {
    expect(generationParamsOf({ seed: 1234, temperature: 0.8 })).toEqual({ ...DEFAULT_GENERATION_PARAMS, temperature: 0.8, seed: 1234 });
    expect(generationParamsOf({})).not.toHaveProperty("seed");
    expect(() => generationParamsOf({ seed: 1.5 })).toThrow(/wholeNumber/);
    expect(() => generationParamsOf({ seed: -1 })).toThrow();
  });

  it("send the seed to every engine", () => {
    const body = chatRequestBody({ baseUrl: "x", model: "m", extendedSampling: false }, [], generationParamsOf({ seed: 7 }));
    expect(body.seed).toBe(7);
  });
});
