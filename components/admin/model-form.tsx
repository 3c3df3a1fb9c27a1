"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { callApi, type ApiError } from "./api";

type ModelKindValue = "local" | "openai" | "offline";

export type ModelFormValues = {
  id?: string;
  kind: ModelKindValue;
  slug: string; displayName: string; description: string; organisation: string; licence: string; link: string;
  battleWeight: number; hasBattles: boolean; apiKey: "set" | "not set";
  engine: Record<string, unknown>;
  generationDefaults: Record<string, unknown>;
};

const num = (v: FormDataEntryValue | null) => (v === null || v === "" ? undefined : Number(v));
const strOrNull = (v: FormDataEntryValue | null) => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);
// Whitespace is part of a Jinja template: kept as typed, only an all-blank one becomes null.
const textOrNull = (v: FormDataEntryValue | null) => (typeof v === "string" && v.trim() !== "" ? v : null);

/** The chat template choices, and what each one means for the runtime. */
const CHAT_TEMPLATE_CHOICES: { value: string; label: string; hint: string }[] = [
  { value: "auto", label: "auto（自动 · the runtime decides）", hint: "Sends none: the runtime uses its default (leitai.json, else the checkpoint's own, else by name)." },
  { value: "model", label: "model（模型自带 · the checkpoint's own）", hint: "The checkpoint's own Jinja template (GGUF or tokenizer_config.json); saving checks it has one." },
  { value: "alpaca2", label: "alpaca2（Chinese-Alpaca-2）", hint: "Llama-2-chat turns with Chinese-Alpaca-2's default system prompt." },
  { value: "llama2-chat", label: "llama2-chat（[INST] … [/INST]）", hint: "Meta's Llama-2-chat turns, no default system prompt." },
  { value: "plain", label: "plain（无模板 · no template）", hint: "Messages joined by newlines, for base models." },
  { value: "custom", label: "custom（自定义 Jinja · your own）", hint: "Your Jinja below (messages, add_generation_prompt, bos_token, eos_token); saving checks it renders." },
];

function bodyOf(form: FormData, kind: ModelKindValue) {
  const ropeType = strOrNull(form.get("ropeType"));
  const engine = kind === "offline" ? {} : kind === "local"
    ? {
        path: String(form.get("path") ?? "").trim(),
        dtype: form.get("dtype"),
        chatTemplate: form.get("chatTemplate"),
        chatTemplateJinja: textOrNull(form.get("chatTemplateJinja")),
        systemPrompt: strOrNull(form.get("systemPrompt")),
        contextLength: num(form.get("contextLength")) ?? null,
        ropeScaling: ropeType ? { type: ropeType, factor: num(form.get("ropeFactor")) ?? 1 } : null,
        runtimeUrl: strOrNull(form.get("runtimeUrl")),
        servedName: strOrNull(form.get("servedName")),
        draftPath: strOrNull(form.get("draftPath")),
        numSpeculativeTokens: num(form.get("numSpeculativeTokens")) ?? 4,
      }
    : { baseUrl: String(form.get("baseUrl") ?? "").trim(), remoteModel: String(form.get("remoteModel") ?? "").trim() };
  return {
    kind,
    slug: String(form.get("slug") ?? "").trim(),
    displayName: String(form.get("displayName") ?? ""),
    description: String(form.get("description") ?? ""),
    organisation: String(form.get("organisation") ?? ""),
    licence: String(form.get("licence") ?? ""),
    link: String(form.get("link") ?? "").trim(),
    battleWeight: num(form.get("battleWeight")) ?? 1,
    engine,
    generationDefaults: {
      temperature: num(form.get("temperature")), topP: num(form.get("topP")), topK: num(form.get("topK")),
      repetitionPenalty: num(form.get("repetitionPenalty")), maxTokens: num(form.get("maxTokens")), seed: num(form.get("seed")),
    },
    ...(kind === "openai" ? { apiKey: String(form.get("apiKey") ?? "") || undefined, clearApiKey: form.get("clearApiKey") === "on" } : {}),
  };
}

const isFieldOf = (error: ApiError | null, name: string) => error?.field === name || !!error?.field?.endsWith(`.${name}`);

function FieldError({ name, error }: { name: string; error: ApiError | null }) {
  return isFieldOf(error, name) ? <span className="error small" data-testid={`model-error-${name}`}>{error!.message}</span> : null;
}

function Field({ name, label, error, ...rest }: { name: string; label: string; error: ApiError | null } & React.InputHTMLAttributes<HTMLInputElement>) {
  return (
    <label>
      {label}
      <input name={name} data-testid={`model-${name}`} aria-invalid={isFieldOf(error, name) || undefined} {...rest} />
      <FieldError name={name} error={error} />
    </label>
  );
}

export function ModelForm({ initial }: { initial?: ModelFormValues }) {
  const router = useRouter();
  const [kind, setKind] = useState<ModelKindValue>(initial?.kind ?? "local");
  const [saveError, setError] = useState<ApiError | null>(null);
  const [check, setCheck] = useState<{ ok: boolean; message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const e = initial?.engine ?? {};
  const g = initial?.generationDefaults ?? {};
  const rope = e.ropeScaling as { type?: string; factor?: number } | null | undefined;
  const s = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  const [chatTemplate, setChatTemplate] = useState(s(e.chatTemplate) || "auto");
  // A failed check (saved as disabled) also marks the field it is about, e.g. a rejected template.
  const error = saveError ?? (check && !check.ok && check.field ? { code: "check", message: check.message, field: check.field } : null);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setCheck(null);
    const body = bodyOf(new FormData(event.currentTarget), kind);
    type Saved = { model: { id: string }; check: { ok: boolean; message: string; field?: string } };
    const result = initial?.id
      ? await callApi<Saved>(`/api/admin/models/${initial.id}`, { method: "PUT", body })
      : await callApi<Saved>("/api/admin/models", { method: "POST", body });
    setBusy(false);
    if (!result.ok) { setError(result.error); return; }
    setCheck(result.data.check);
    if (!initial?.id) router.push(`/admin/models/${result.data.model.id}?saved=1`);
    else router.refresh();
  }

  return (
    <form className="admin-form" onSubmit={submit} data-testid="model-form">
      <label>
        类型 Kind
        <select name="kind" value={kind} onChange={(ev) => setKind(ev.target.value as ModelKindValue)} data-testid="model-kind">
          <option value="local">local（本地权重 · own weights on the runtime）</option>
          <option value="openai">openai（OpenAI 兼容接口 · compatible API）</option>
          <option value="offline">offline（离线答案 · imported answers, no engine）</option>
        </select>
      </label>
      <Field name="displayName" label="名称 Display name" error={error} defaultValue={initial?.displayName} required />
      <Field name="slug" label="标识 Slug (a-z 0-9 -)" error={error} defaultValue={initial?.slug} required pattern="[a-z0-9][a-z0-9\-]*"
        readOnly={initial?.hasBattles} title={initial?.hasBattles ? "Fixed once the model has battles" : undefined} />
      <Field name="organisation" label="机构 Organisation" error={error} defaultValue={initial?.organisation} />
      <Field name="licence" label="许可 Licence" error={error} defaultValue={initial?.licence} />
      <Field name="link" label="链接 Link" error={error} defaultValue={initial?.link} type="url" />
      <Field name="battleWeight" label="出场权重 Battle weight" error={error} defaultValue={initial?.battleWeight ?? 1} type="number" step="0.1" min="0" />
      <label className="wide">
        简介 Description
        <textarea name="description" rows={2} defaultValue={initial?.description} data-testid="model-description" />
      </label>
      {kind === "offline" ? (
        <p className="wide muted small" data-testid="model-offline-hint">
          离线模型没有引擎：保存后在此页导入它的答案集，只参加题库对战。An offline model has no engine: after saving, import its answer set on this page; it only battles in bank mode.
        </p>
      ) : kind === "local" ? (
        <fieldset>
          <legend>本地引擎 Local engine</legend>
          <Field name="path" label="权重路径 Path (HF dir or .gguf)" error={error} defaultValue={s(e.path)} required />
          <label>
            dtype
            <select name="dtype" defaultValue={s(e.dtype) || "auto"} data-testid="model-dtype">
              {["auto", "float32", "float16", "bfloat16"].map((d) => <option key={d}>{d}</option>)}
            </select>
          </label>
          <label>
            对话模板 Chat template
            <select name="chatTemplate" value={chatTemplate} onChange={(ev) => setChatTemplate(ev.target.value)} data-testid="model-chatTemplate"
              aria-invalid={isFieldOf(error, "chatTemplate") || undefined}>
              {CHAT_TEMPLATE_CHOICES.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}
            </select>
            <span className="muted small" data-testid="model-chatTemplate-hint">{CHAT_TEMPLATE_CHOICES.find((c) => c.value === chatTemplate)?.hint}</span>
            <FieldError name="chatTemplate" error={error} />
          </label>
          <Field name="contextLength" label="上下文长度 Context length" error={error} defaultValue={s(e.contextLength)} type="number" min="1" />
          <label>
            RoPE scaling
            <select name="ropeType" defaultValue={s(rope?.type)} data-testid="model-ropeType">
              <option value="">none (from the model config)</option>
              {["linear", "dynamic", "yarn"].map((d) => <option key={d}>{d}</option>)}
            </select>
          </label>
          <Field name="ropeFactor" label="RoPE factor" error={error} defaultValue={s(rope?.factor)} type="number" step="0.1" min="0" />
          <Field name="runtimeUrl" label="Runtime URL (empty: default)" error={error} defaultValue={s(e.runtimeUrl)} />
          <Field name="servedName" label="服务名 Served name (empty: slug)" error={error} defaultValue={s(e.servedName)} />
          <Field name="draftPath" label="推测解码草稿 Speculative draft (path; empty: none)" error={error} defaultValue={s(e.draftPath)}
            title="A small model with the same tokenizer, e.g. Chinese-LLaMA-2-1.3B for the 7B/13B models: same answers, faster at small batches" />
          <Field name="numSpeculativeTokens" label="每步草稿词元 Draft tokens per step" error={error} defaultValue={s(e.numSpeculativeTokens ?? 4)} type="number" min="1" max="16" step="1" />
          {/* Hidden, not unmounted, while another template is chosen: switching back keeps the text. */}
          <label className="wide" style={chatTemplate === "custom" ? undefined : { display: "none" }}>
            自定义模板 Custom chat template (Jinja)
            <textarea name="chatTemplateJinja" rows={8} defaultValue={s(e.chatTemplateJinja)} spellCheck={false}
              className="mono" data-testid="model-chatTemplateJinja" aria-invalid={isFieldOf(error, "chatTemplateJinja") || undefined}
              placeholder={"{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"} />
            <FieldError name="chatTemplateJinja" error={error} />
          </label>
          <label className="wide">
            系统提示 System prompt
            <textarea name="systemPrompt" rows={2} defaultValue={s(e.systemPrompt)} data-testid="model-systemPrompt" />
          </label>
        </fieldset>
      ) : (
        <fieldset>
          <legend>OpenAI 兼容接口 OpenAI-compatible endpoint</legend>
          <Field name="baseUrl" label="Base URL (…/v1)" error={error} defaultValue={s(e.baseUrl)} required />
          <Field name="remoteModel" label="远端模型名 Remote model" error={error} defaultValue={s(e.remoteModel)} required />
          <Field name="apiKey" label={`API key（${initial?.apiKey === "set" ? "已设置 set — leave empty to keep" : "未设置 not set"}）`} error={error} type="password" autoComplete="off" />
          {initial?.apiKey === "set" && (
            <label style={{ flexDirection: "row", gap: "0.4rem" }}><input type="checkbox" name="clearApiKey" data-testid="model-clearApiKey" /> 清除 Remove the key</label>
          )}
        </fieldset>
      )}
      <fieldset>
        <legend>生成默认值 Generation defaults</legend>
        <Field name="temperature" label="temperature" error={error} defaultValue={s(g.temperature ?? 0.2)} type="number" step="0.05" min="0" max="2" />
        <Field name="topP" label="top-p" error={error} defaultValue={s(g.topP ?? 0.9)} type="number" step="0.05" min="0" max="1" />
        <Field name="topK" label="top-k" error={error} defaultValue={s(g.topK ?? 40)} type="number" min="0" />
        <Field name="repetitionPenalty" label="repetition penalty" error={error} defaultValue={s(g.repetitionPenalty ?? 1.1)} type="number" step="0.05" min="0.5" max="2" />
        <Field name="maxTokens" label="max tokens" error={error} defaultValue={s(g.maxTokens ?? 512)} type="number" min="1" />
        <Field name="seed" label="seed（空：每次随机 · empty: a fresh draw each time）" error={error} defaultValue={s(g.seed)} type="number" min="0" step="1" />
      </fieldset>
      <div className="wide admin-row">
        <button type="submit" disabled={busy} data-testid="model-save">{busy ? "检查中… Checking…" : "保存 Save"}</button>
        {saveError && <span className="error" role="alert" data-testid="model-error">{saveError.message}</span>}
        {check && <span className={`notice ${check.ok ? "ok" : "bad"}`} data-testid="model-check">{check.ok ? "✓ " : "✗ saved as disabled: "}{check.message}</span>}
      </div>
    </form>
  );
}
