"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import type { Catalogue, Lang } from "@/lib/i18n";
import { nameIn } from "@/lib/i18n/lang";
import { questionFormSchema } from "@/lib/schemas/question";
import { FormError } from "./field-error";
import { Field, invalidProps } from "./form-field";
import { useAdminForm } from "./use-admin-form";

type Category = { id: string; slug: string; nameZh: string; nameEn: string };
export type QuestionValues = { id?: string; text: string; categoryId: string; language: string; tags: string[]; externalId: string | null; active: boolean };

export function QuestionForm({ categories, initial, lang, said }: { categories: Category[]; initial?: QuestionValues; lang: Lang; said: Catalogue["adminQuestions"] }) {
  const router = useRouter();
  const [saved, setSaved] = useState(false);
  const defaults = {
    text: initial?.text ?? "", categoryId: initial?.categoryId ?? categories[0]?.id ?? "", language: initial?.language ?? "zh",
    tags: initial?.tags.join("|") ?? "", externalId: initial?.externalId ?? "", active: initial?.active ?? true,
  };
  const { register, handleSubmit, reset, send, formState: { errors, isSubmitting } } = useAdminForm(questionFormSchema, defaults);

  const save = handleSubmit(async (input) => {
    setSaved(false);
    const result = initial?.id
      ? await send(`/api/admin/questions/${initial.id}`, { method: "PATCH", body: input })
      : await send("/api/admin/questions", { method: "POST", body: input });
    if (!result.ok) return;
    setSaved(true);
    if (!initial?.id) reset(defaults);
    router.refresh();
  });

  return (
    <form className="admin-form" onSubmit={save} noValidate data-testid="question-form">
      <Field label={said.text} name="text" errors={errors} className="wide">
        <textarea {...register("text")} {...invalidProps(errors, "text")} rows={3} data-testid="question-text" />
      </Field>
      <Field label={said.category} name="categoryId" errors={errors}>
        <select {...register("categoryId")} {...invalidProps(errors, "categoryId")} data-testid="question-category">
          {categories.map((c) => <option key={c.id} value={c.id}>{nameIn(lang, c)}</option>)}
        </select>
      </Field>
      <Field label={said.language} name="language" errors={errors}>
        <input {...register("language")} {...invalidProps(errors, "language")} data-testid="question-language" />
      </Field>
      <Field label={said.tags} name="tags" errors={errors}>
        <input {...register("tags")} {...invalidProps(errors, "tags")} data-testid="question-tags" />
      </Field>
      <Field label={said.externalId} name="externalId" errors={errors}>
        <input {...register("externalId")} {...invalidProps(errors, "externalId")} data-testid="question-externalId" />
      </Field>
      <label style={{ flexDirection: "row", gap: "0.4rem", alignItems: "center" }}>
        <input type="checkbox" {...register("active")} data-testid="question-active" /> {said.activeBox}
      </label>
      <div className="admin-row">
        <button type="submit" disabled={isSubmitting} data-testid="question-save">{initial?.id ? said.save : said.add}</button>
        {saved && <span className="small" data-testid="question-saved">{said.saved}</span>}
        <FormError errors={errors} />
      </div>
    </form>
  );
}
