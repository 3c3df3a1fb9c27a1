"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { callApi, type ApiError } from "./api";

type Category = { id: string; slug: string; nameZh: string; nameEn: string };
export type QuestionValues = { id?: string; text: string; categoryId: string; language: string; tags: string[]; externalId: string | null; active: boolean };

export function QuestionForm({ categories, initial }: { categories: Category[]; initial?: QuestionValues }) {
  const router = useRouter();
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const body = {
      text: String(form.get("text") ?? ""),
      categoryId: String(form.get("categoryId") ?? ""),
      language: String(form.get("language") ?? "").trim(),
      tags: String(form.get("tags") ?? "").split("|").map((t) => t.trim()).filter(Boolean),
      externalId: String(form.get("externalId") ?? "").trim() || null,
      active: form.get("active") === "on",
    };
    setBusy(true); setError(null); setSaved(false);
    const result = initial?.id
      ? await callApi(`/api/admin/questions/${initial.id}`, { method: "PATCH", body })
      : await callApi("/api/admin/questions", { method: "POST", body });
    setBusy(false);
    if (!result.ok) { setError(result.error); return; }
    setSaved(true);
    if (!initial?.id) formEl.reset();
    router.refresh();
  }

  return (
    <form className="admin-form" onSubmit={submit} data-testid="question-form">
      <label className="wide">
        问题 Question
        <textarea name="text" rows={3} required defaultValue={initial?.text} data-testid="question-text" />
      </label>
      <label>
        类别 Category
        <select name="categoryId" required defaultValue={initial?.categoryId} data-testid="question-category">
          {categories.map((c) => <option key={c.id} value={c.id}>{c.nameZh} {c.nameEn}</option>)}
        </select>
      </label>
      <label>
        语言 Language
        <input name="language" defaultValue={initial?.language ?? "zh"} required data-testid="question-language" />
      </label>
      <label>
        标签 Tags (a|b)
        <input name="tags" defaultValue={initial?.tags.join("|")} data-testid="question-tags" />
      </label>
      <label>
        外部 ID External id
        <input name="externalId" defaultValue={initial?.externalId ?? ""} data-testid="question-externalId" />
      </label>
      <label style={{ flexDirection: "row", gap: "0.4rem", alignItems: "center" }}>
        <input type="checkbox" name="active" defaultChecked={initial?.active ?? true} data-testid="question-active" /> 启用 Active
      </label>
      <div className="admin-row">
        <button type="submit" disabled={busy} data-testid="question-save">{initial?.id ? "保存 Save" : "添加 Add"}</button>
        {saved && <span className="small" data-testid="question-saved">✓ 已保存 Saved</span>}
        {error && <span className="error" role="alert" data-testid="question-error">{error.message}</span>}
      </div>
    </form>
  );
}
