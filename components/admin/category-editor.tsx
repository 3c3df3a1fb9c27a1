"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { parseAliasText } from "@/lib/category-names";
import { callApi } from "./api";

type Category = { id?: string; slug: string; nameZh: string; nameEn: string; aliases: string[]; sortOrder: number };

/** One row of the category table, or the "new category" row when `category` is absent. */
export function CategoryEditor({ category }: { category?: Category }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const key = category?.slug ?? "new";

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const body = { slug: String(form.get("slug")).trim(), nameZh: String(form.get("nameZh")), nameEn: String(form.get("nameEn")), sortOrder: Number(form.get("sortOrder") || 0),
      aliases: parseAliasText(String(form.get("aliases") ?? "")) };
    const result = category?.id
      ? await callApi(`/api/admin/categories/${category.id}`, { method: "PUT", body })
      : await callApi("/api/admin/categories", { method: "POST", body });
    if (!result.ok) { setError(result.error.message); return; }
    setError(null);
    if (!category) formEl.reset();
    router.refresh();
  }

  async function remove() {
    if (!category?.id || !window.confirm(`Delete ${category.slug}?`)) return;
    const result = await callApi(`/api/admin/categories/${category.id}`, { method: "DELETE" });
    if (!result.ok) setError(result.error.message);
    else router.refresh();
  }

  return (
    <form className="admin-row" onSubmit={submit} data-testid={`category-${key}`}>
      <input name="slug" defaultValue={category?.slug} placeholder="slug" required aria-label="slug" style={{ width: "11rem" }} data-testid={`category-${key}-slug`} />
      <input name="nameZh" defaultValue={category?.nameZh} placeholder="中文名" required aria-label="Chinese name" data-testid={`category-${key}-zh`} />
      <input name="nameEn" defaultValue={category?.nameEn} placeholder="English name" required aria-label="English name" data-testid={`category-${key}-en`} />
      <input name="sortOrder" type="number" defaultValue={category?.sortOrder ?? 0} aria-label="sort order" style={{ width: "5rem" }} />
      <textarea name="aliases" rows={Math.min(4, Math.max(1, category?.aliases.length ?? 1))} defaultValue={category?.aliases.join("\n")}
        placeholder="别名 aliases (comma or newline separated)" aria-label="aliases" title="别名：导入问题时也认这些名称 Other names the question import accepts"
        style={{ width: "16rem" }} data-testid={`category-${key}-aliases`} />
      <button type="submit" className={category ? "btn-quiet" : undefined} data-testid={`category-${key}-save`}>{category ? "保存 Save" : "添加 Add"}</button>
      {category && <button type="button" className="btn-quiet" onClick={remove} data-testid={`category-${key}-delete`}>删除 Delete</button>}
      {error && <span className="error small" role="alert">{error}</span>}
    </form>
  );
}
