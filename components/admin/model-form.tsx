"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { callApi, type ApiError } from "./api";

export type ModelFormValues = {
  id?: string;
  kind: "local" | "openai";
  slug: string; displayName: string; description: string; organisation: string; licence: string; link: string;
  battleWeight: number; hasBattles: boolean; apiKey: "set" | "not set";
  engine: Record<string, unknown>;
  generationDefaults: Record<string, unknown>;
};

const num = (v: FormDataEntryValue | null) => (v === null || v === "" ? undefined : Number(v));
const strOrNull = (v: FormDataEntryValue | null) => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);

function bodyOf(form: FormData, kind: "local" | "openai") {
  const ropeType = strOrNull(form.get("ropeType"));
  const engine = kind === "local"
    ? {
        path: String(form.get("path") ?? "").trim(),
        dtype: form.get("dtype"),
        chatTemplate: form.get("chatTemplate"),
        systemPrompt: strOrNull(form.get("systemPrompt")),
        contextLength: num(form.get("contextLength")) ?? null,
        ropeScaling: ropeType ? { type: ropeType, factor: num(form.get("ropeFactor")) ?? 1 } : null,
        runtimeUrl: strOrNull(form.get("runtimeUrl")),
        servedName: strOrNull(form.get("servedName")),
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
      repetitionPenalty: num(form.get("repetitionPenalty")), maxTokens: num(form.get("maxTokens")),
    },
    ...(kind === "openai" ? { apiKey: String(form.get("apiKey") ?? "") || undefined, clearApiKey: form.get("clearApiKey") === "on" } : {}),
  };
}

function Field({ name, label, error, ...rest }: { name: string; label: string; error: ApiError | null } & React.InputHTMLAttributes<HTMLInputElement>) {
  const bad = error?.field === name || error?.field?.endsWith(`.${name}`);
  return (
    <label>
      {label}
      <input name={name} data-testid={`model-${name}`} aria-invalid={bad || undefined} {...rest} />
      {bad && <span className="error small" data-testid={`model-error-${name}`}>{error!.message}</span>}
    </label>
  );
}

export function ModelForm({ initial }: { initial?: ModelFormValues }) {
  const router = useRouter();
  const [kind, setKind] = useState<"local" | "openai">(initial?.kind ?? "local");
  const [error, setError] = useState<ApiError | null>(null);
  const [check, setCheck] = useState<{ ok: boolean; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const e = initial?.engine ?? {};
  const g = initial?.generationDefaults ?? {};
  const rope = e.ropeScaling as { type?: string; factor?: number } | null | undefined;
  const s = (v: unknown) => (v === null || v === undefined ? "" : String(v));

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setCheck(null);
    const body = bodyOf(new FormData(event.currentTarget), kind);
    const result = initial?.id
      ? await callApi<{ model: { id: string }; check: { ok: boolean; message: string } }>(`/api/admin/models/${initial.id}`, { method: "PUT", body })
      : await callApi<{ model: { id: string }; check: { ok: boolean; message: string } }>("/api/admin/models", { method: "POST", body });
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
        <select name="kind" value={kind} onChange={(ev) => setKind(ev.target.value as "local" | "openai")} data-testid="model-kind">
          <option value="local">local（本地权重 · own weights on the runtime）</option>
          <option value="openai">openai（OpenAI 兼容接口 · compatible API）</option>
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
      {kind === "local" ? (
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
            <select name="chatTemplate" defaultValue={s(e.chatTemplate) || "alpaca2"} data-testid="model-chatTemplate">
              {["alpaca2", "llama2-chat", "plain"].map((d) => <option key={d}>{d}</option>)}
            </select>
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
      </fieldset>
      <div className="wide admin-row">
        <button type="submit" disabled={busy} data-testid="model-save">{busy ? "检查中… Checking…" : "保存 Save"}</button>
        {error && <span className="error" role="alert" data-testid="model-error">{error.message}</span>}
        {check && <span className={`notice ${check.ok ? "ok" : "bad"}`} data-testid="model-check">{check.ok ? "✓ " : "✗ saved as disabled: "}{check.message}</span>}
      </div>
    </form>
  );
}
