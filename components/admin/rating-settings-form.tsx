"use client";

import { useState } from "react";
import type { Catalogue } from "@/lib/i18n";
import { ratingSettingsInput } from "@/lib/schemas/rating-settings";
import { FormError } from "./field-error";
import { Field, invalidProps } from "./form-field";
import { useAdminForm } from "./use-admin-form";

type Settings = { anchorModelId: string | null; anchorRating: number; dedupThreshold: number; minBattlesRanked: number };

const asNumber = (text: unknown) => (text === "" || text === null || text === undefined ? undefined : Number(text));

/** Anchor of the Bradley–Terry scale, the live-prompt de-duplication threshold and the battles before a model is ranked; saving recomputes. */
export function RatingSettingsForm({ initial, models, said }: { initial: Settings; models: { id: string; label: string }[]; said: Catalogue["adminRatings"] }) {
  const [saved, setSaved] = useState(false);
  const { register, handleSubmit, send, watch, formState: { errors, isSubmitting } } = useAdminForm(ratingSettingsInput, initial);
  const anchored = !!watch("anchorModelId");

  const save = handleSubmit(async (input) => {
    setSaved(false);
    const result = await send<{ jobId: string }>("/api/admin/ratings/settings", { method: "PUT", body: input });
    if (result.ok) setSaved(true);
  });

  // The saved values are in the server's HTML too, not only once the form hydrates.
  return (
    <form className="card admin-form" onSubmit={save} noValidate data-testid="rating-settings">
      <Field label={said.anchorModel} name="anchorModelId" errors={errors}>
        <select {...register("anchorModelId", { setValueAs: (v: unknown) => (v === "" ? null : v) })} {...invalidProps(errors, "anchorModelId")} defaultValue={initial.anchorModelId ?? ""} data-testid="rating-anchor-model">
          <option value="">{said.anchorNone}</option>
          {models.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
        </select>
      </Field>
      <Field label={said.anchorRating} name="anchorRating" errors={errors}>
        <input type="number" step="any" {...register("anchorRating", { setValueAs: asNumber })} {...invalidProps(errors, "anchorRating")} defaultValue={initial.anchorRating} readOnly={!anchored} data-testid="rating-anchor-rating" />
      </Field>
      <Field label={said.dedupThreshold} name="dedupThreshold" errors={errors}>
        <input type="number" step={1} {...register("dedupThreshold", { setValueAs: asNumber })} {...invalidProps(errors, "dedupThreshold")} defaultValue={initial.dedupThreshold} data-testid="rating-dedup-threshold" />
      </Field>
      <Field label={said.minBattlesRanked} name="minBattlesRanked" errors={errors}>
        <input type="number" step={1} {...register("minBattlesRanked", { setValueAs: asNumber })} {...invalidProps(errors, "minBattlesRanked")} defaultValue={initial.minBattlesRanked} data-testid="rating-min-battles" />
      </Field>
      <button type="submit" disabled={isSubmitting} data-testid="rating-settings-save">{isSubmitting ? said.saving : said.save}</button>
      {saved && <span className="small" data-testid="rating-settings-message">{said.saved}</span>}
      <FormError errors={errors} />
    </form>
  );
}
