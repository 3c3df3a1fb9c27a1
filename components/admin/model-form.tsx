"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import type { FieldPath } from "react-hook-form";
import type { Catalogue } from "@/lib/i18n";
import { fill } from "@/lib/i18n/lang";
import { DEFAULT_GENERATION_PARAMS } from "@/lib/pipeline/contracts";
import { chatTemplates, dtypes, modelFormSchema, ropeTypes, type ModelFormValues } from "@/lib/schemas/model";
import { FieldError, FormError } from "./field-error";
import { Field, invalidProps } from "./form-field";
import { useAdminForm } from "./use-admin-form";

type ModelKindValue = ModelFormValues["kind"];
type Said = Catalogue["adminModelForm"];

/** A saved model as the form starts from it. */
export type ModelFormInitial = {
  id?: string;
  kind: ModelKindValue;
  slug: string; displayName: string; description: string; organisation: string; licence: string; link: string;
  battleWeight: number; hasBattles: boolean; apiKey: "set" | "not set";
  engine: Record<string, unknown>;
  generationDefaults: Record<string, unknown>;
};

type Check = { ok: boolean; message: string; field?: string };

const TEMPLATE_TEXTS: Record<(typeof chatTemplates)[number], [label: keyof Said, hint: keyof Said]> = {
  auto: ["tplAuto", "tplAutoHint"],
  model: ["tplModel", "tplModelHint"],
  alpaca2: ["tplAlpaca2", "tplAlpaca2Hint"],
  "llama2-chat": ["tplLlama2", "tplLlama2Hint"],
  plain: ["tplPlain", "tplPlainHint"],
  custom: ["tplCustom", "tplCustomHint"],
};

const text = (v: unknown) => (v === null || v === undefined ? "" : String(v));

function defaultsOf(initial: ModelFormInitial | undefined): ModelFormValues {
  const e = initial?.engine ?? {};
  const g = initial?.generationDefaults ?? {};
  const rope = e.ropeScaling as { type?: (typeof ropeTypes)[number]; factor?: number } | null | undefined;
  return {
    kind: initial?.kind ?? "local",
    slug: initial?.slug ?? "", displayName: initial?.displayName ?? "", description: initial?.description ?? "",
    organisation: initial?.organisation ?? "", licence: initial?.licence ?? "", link: initial?.link ?? "",
    battleWeight: text(initial?.battleWeight ?? 1),
    engine: {
      path: text(e.path), dtype: (e.dtype as ModelFormValues["engine"]["dtype"] | undefined) ?? "auto",
      chatTemplate: (e.chatTemplate as ModelFormValues["engine"]["chatTemplate"] | undefined) ?? "auto",
      chatTemplateJinja: text(e.chatTemplateJinja), systemPrompt: text(e.systemPrompt), contextLength: text(e.contextLength),
      ropeScaling: { type: rope?.type ?? "", factor: text(rope?.factor) },
      runtimeUrl: text(e.runtimeUrl), servedName: text(e.servedName), draftPath: text(e.draftPath),
      numSpeculativeTokens: text(e.numSpeculativeTokens ?? 4), baseUrl: text(e.baseUrl), remoteModel: text(e.remoteModel),
    },
    generationDefaults: {
      temperature: text(g.temperature ?? DEFAULT_GENERATION_PARAMS.temperature), topP: text(g.topP ?? DEFAULT_GENERATION_PARAMS.topP),
      topK: text(g.topK ?? DEFAULT_GENERATION_PARAMS.topK), repetitionPenalty: text(g.repetitionPenalty ?? DEFAULT_GENERATION_PARAMS.repetitionPenalty),
      maxTokens: text(g.maxTokens ?? DEFAULT_GENERATION_PARAMS.maxTokens), seed: text(g.seed),
    },
    apiKey: "",
    clearApiKey: false,
  };
}

export function ModelForm({ initial, said }: { initial?: ModelFormInitial; said: Said }) {
  const router = useRouter();
  const [check, setCheck] = useState<Check | null>(null);
  const { register, handleSubmit, watch, send, setError, setValue, formState: { errors, isSubmitting } } = useAdminForm(modelFormSchema, defaultsOf(initial));
  const kind = watch("kind");
  const chatTemplate = watch("engine.chatTemplate");

  const save = handleSubmit(async (input) => {
    setCheck(null);
    type Saved = { model: { id: string }; check: Check };
    const result = initial?.id
      ? await send<Saved>(`/api/admin/models/${initial.id}`, { method: "PUT", body: input })
      : await send<Saved>("/api/admin/models", { method: "POST", body: input });
    if (!result.ok) return;
    setCheck(result.data.check);
    setValue("apiKey", "");
    // A failed check (saved as disabled) also marks the field it is about, e.g. a rejected template.
    if (!result.data.check.ok && result.data.check.field) {
      setError(result.data.check.field as FieldPath<ModelFormValues>, { type: "check", message: result.data.check.message });
    }
    if (!initial?.id) router.push(`/admin/models/${result.data.model.id}?saved=1`);
    else router.refresh();
  });

  /** A text or number box; `testId` is its name's last part, as the model pages' tests know it. */
  const box = (name: FieldPath<ModelFormValues>, label: string, props: React.InputHTMLAttributes<HTMLInputElement> = {}) => {
    const testId = name.split(".").pop()!.replace(/^type$/, "ropeType").replace(/^factor$/, "ropeFactor");
    return (
      <Field label={label} name={name} errors={errors} errorTestId={`model-error-${testId}`}>
        <input {...register(name)} {...invalidProps(errors, name)} data-testid={`model-${testId}`} {...props} />
      </Field>
    );
  };

  return (
    <form className="admin-form" onSubmit={save} noValidate data-testid="model-form">
      <label>
        {said.kind}
        <select {...register("kind")} data-testid="model-kind">
          <option value="local">{said.kindLocal}</option>
          <option value="openai">{said.kindOpenai}</option>
          <option value="offline">{said.kindOffline}</option>
        </select>
      </label>
      {box("displayName", said.displayName)}
      {box("slug", said.slug, { readOnly: initial?.hasBattles, title: initial?.hasBattles ? said.slugFixed : undefined })}
      {box("organisation", said.organisation)}
      {box("licence", said.licence)}
      {box("link", said.link, { type: "url" })}
      {box("battleWeight", said.battleWeight, { type: "number", step: "0.1", min: "0" })}
      <Field label={said.description} name="description" errors={errors} className="wide">
        <textarea {...register("description")} {...invalidProps(errors, "description")} rows={2} data-testid="model-description" />
      </Field>
      {kind === "offline" ? (
        <p className="wide muted small" data-testid="model-offline-hint">
          {said.offlineHint}
          <FieldError errors={errors} name="engine" />
        </p>
      ) : kind === "local" ? (
        <fieldset>
          <legend>{said.localEngine}</legend>
          {box("engine.path", said.path)}
          <label>
            {said.dtype}
            <select {...register("engine.dtype")} data-testid="model-dtype">
              {dtypes.map((d) => <option key={d}>{d}</option>)}
            </select>
          </label>
          <Field label={said.chatTemplate} name="engine.chatTemplate" errors={errors} errorTestId="model-error-chatTemplate">
            <select {...register("engine.chatTemplate")} {...invalidProps(errors, "engine.chatTemplate")} data-testid="model-chatTemplate">
              {chatTemplates.map((c) => <option key={c} value={c}>{said[TEMPLATE_TEXTS[c][0]]}</option>)}
            </select>
            <span className="muted small" data-testid="model-chatTemplate-hint">{said[TEMPLATE_TEXTS[chatTemplate][1]]}</span>
          </Field>
          {box("engine.contextLength", said.contextLength, { type: "number", min: "1" })}
          <label>
            {said.ropeScaling}
            <select {...register("engine.ropeScaling.type")} data-testid="model-ropeType">
              <option value="">{said.ropeNone}</option>
              {ropeTypes.map((d) => <option key={d}>{d}</option>)}
            </select>
          </label>
          {box("engine.ropeScaling.factor", said.ropeFactor, { type: "number", step: "0.1", min: "0" })}
          {box("engine.runtimeUrl", said.runtimeUrl)}
          {box("engine.servedName", said.servedName)}
          {box("engine.draftPath", said.draftPath, { title: said.draftHint })}
          {box("engine.numSpeculativeTokens", said.numSpeculativeTokens, { type: "number", min: "1", max: "16", step: "1" })}
          {/* Hidden, not unmounted, while another template is chosen: switching back keeps the text. */}
          <Field label={said.chatTemplateJinja} name="engine.chatTemplateJinja" errors={errors} errorTestId="model-error-chatTemplateJinja"
            className="wide" style={chatTemplate === "custom" ? undefined : { display: "none" }}>
            <textarea {...register("engine.chatTemplateJinja")} {...invalidProps(errors, "engine.chatTemplateJinja")} rows={8} spellCheck={false}
              className="mono" data-testid="model-chatTemplateJinja"
              placeholder={"{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"} />
          </Field>
          <Field label={said.systemPrompt} name="engine.systemPrompt" errors={errors} className="wide">
            <textarea {...register("engine.systemPrompt")} {...invalidProps(errors, "engine.systemPrompt")} rows={2} data-testid="model-systemPrompt" />
          </Field>
        </fieldset>
      ) : (
        <fieldset>
          <legend>{said.openaiEngine}</legend>
          {box("engine.baseUrl", said.baseUrl)}
          {box("engine.remoteModel", said.remoteModel)}
          {box("apiKey", initial?.apiKey === "set" ? said.apiKeySet : said.apiKeyNotSet, { type: "password", autoComplete: "off" })}
          {initial?.apiKey === "set" && (
            <label style={{ flexDirection: "row", gap: "0.4rem" }}><input type="checkbox" {...register("clearApiKey")} data-testid="model-clearApiKey" /> {said.clearApiKey}</label>
          )}
        </fieldset>
      )}
      <fieldset>
        <legend>{said.generationDefaults}</legend>
        {box("generationDefaults.temperature", said.temperature, { type: "number", step: "0.05", min: "0", max: "2" })}
        {box("generationDefaults.topP", said.topP, { type: "number", step: "0.05", min: "0", max: "1" })}
        {box("generationDefaults.topK", said.topK, { type: "number", min: "0" })}
        {box("generationDefaults.repetitionPenalty", said.repetitionPenalty, { type: "number", step: "0.05", min: "0.5", max: "2" })}
        {box("generationDefaults.maxTokens", said.maxTokens, { type: "number", min: "1" })}
        {box("generationDefaults.seed", said.seed, { type: "number", min: "0", step: "1" })}
      </fieldset>
      <div className="wide admin-row">
        <button type="submit" disabled={isSubmitting} data-testid="model-save">{isSubmitting ? said.checking : said.save}</button>
        <FormError errors={errors} />
        {check && <span className={`notice ${check.ok ? "ok" : "bad"}`} data-testid="model-check">{fill(check.ok ? said.checkOk : said.checkFailed, { message: check.message })}</span>}
      </div>
    </form>
  );
}
