"use client";

import { useRouter } from "next/navigation";
import { fill } from "@/lib/i18n/lang";
import { categoryFormSchema } from "@/lib/schemas/category";
import { callApi } from "./api";
import { FieldError, FormError } from "./field-error";
import { useAdminForm } from "./use-admin-form";

type Category = { id?: string; slug: string; nameZh: string; nameEn: string; aliases: string[]; sortOrder: number };
export type CategoryEditorTexts = Readonly<Record<"slug" | "nameZh" | "nameEn" | "sortOrder" | "aliases" | "aliasesPlaceholder" | "aliasesHint" | "save" | "add" | "delete" | "confirmDelete", string>>;

/** One row of the category table, or the "new category" row when `category` is absent. */
export function CategoryEditor({ category, said }: { category?: Category; said: CategoryEditorTexts }) {
  const router = useRouter();
  const key = category?.slug ?? "new";
  const defaults = { slug: category?.slug ?? "", nameZh: category?.nameZh ?? "", nameEn: category?.nameEn ?? "", sortOrder: category?.sortOrder ?? 0, aliases: category?.aliases.join("\n") ?? "" };
  const { register, handleSubmit, reset, send, setError, formState: { errors, isSubmitting } } = useAdminForm(categoryFormSchema, defaults);
  const described = (field: string) => (errors[field as keyof typeof errors] ? `${key}-${field}-error` : undefined);

  const save = handleSubmit(async (input) => {
    const result = category?.id
      ? await send(`/api/admin/categories/${category.id}`, { method: "PUT", body: input })
      : await send("/api/admin/categories", { method: "POST", body: input });
    if (!result.ok) return;
    if (!category) reset(defaults);
    router.refresh();
  });

  async function remove() {
    if (!category?.id || !window.confirm(fill(said.confirmDelete, { slug: category.slug }))) return;
    const result = await callApi(`/api/admin/categories/${category.id}`, { method: "DELETE" });
    if (!result.ok) setError("root.server", { message: result.error.message });
    else router.refresh();
  }

  return (
    <form className="admin-row" onSubmit={save} noValidate data-testid={`category-${key}`}>
      <span className="field">
        <input {...register("slug")} placeholder={said.slug} aria-label={said.slug} aria-invalid={!!errors.slug} aria-describedby={described("slug")} style={{ width: "11rem" }} data-testid={`category-${key}-slug`} />
        <FieldError errors={errors} name="slug" id={`${key}-slug-error`} />
      </span>
      <span className="field">
        <input {...register("nameZh")} placeholder={said.nameZh} aria-label={said.nameZh} aria-invalid={!!errors.nameZh} aria-describedby={described("nameZh")} data-testid={`category-${key}-zh`} />
        <FieldError errors={errors} name="nameZh" id={`${key}-nameZh-error`} />
      </span>
      <span className="field">
        <input {...register("nameEn")} placeholder={said.nameEn} aria-label={said.nameEn} aria-invalid={!!errors.nameEn} aria-describedby={described("nameEn")} data-testid={`category-${key}-en`} />
        <FieldError errors={errors} name="nameEn" id={`${key}-nameEn-error`} />
      </span>
      <span className="field">
        <input {...register("sortOrder", { valueAsNumber: true })} type="number" aria-label={said.sortOrder} aria-invalid={!!errors.sortOrder} aria-describedby={described("sortOrder")} style={{ width: "5rem" }} />
        <FieldError errors={errors} name="sortOrder" id={`${key}-sortOrder-error`} />
      </span>
      <span className="field">
        <textarea {...register("aliases")} rows={Math.min(4, Math.max(1, category?.aliases.length ?? 1))} placeholder={said.aliasesPlaceholder} aria-label={said.aliases}
          title={said.aliasesHint} aria-invalid={!!errors.aliases} aria-describedby={described("aliases")} style={{ width: "16rem" }} data-testid={`category-${key}-aliases`} />
        <FieldError errors={errors} name="aliases" id={`${key}-aliases-error`} />
      </span>
      <button type="submit" className={category ? "btn-quiet" : undefined} disabled={isSubmitting} data-testid={`category-${key}-save`}>{category ? said.save : said.add}</button>
      {category && <button type="button" className="btn-quiet" onClick={remove} data-testid={`category-${key}-delete`}>{said.delete}</button>}
      <FormError errors={errors} />
    </form>
  );
}
