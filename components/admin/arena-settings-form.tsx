"use client";

import { useState } from "react";
import type { Catalogue } from "@/lib/i18n";
import { arenaSettingsInput, type ArenaSettingsInput } from "@/lib/schemas/arena-settings";
import { FieldError, FormError } from "./field-error";
import { Field, invalidProps } from "./form-field";
import { useAdminForm } from "./use-admin-form";

type FlagField = "publishLivePrompts" | "publishAnswersInRotation" | "signupOpen";
type NumberField = Exclude<keyof ArenaSettingsInput, FlagField>;
type Said = Catalogue["adminSettings"];

const FLAGS: FlagField[] = ["publishLivePrompts", "publishAnswersInRotation", "signupOpen"];

const GROUPS: { legend: keyof Said; fields: NumberField[] }[] = [
  { legend: "limitsLegend", fields: ["liveBattlesPerVoter", "liveBattlesPerIp", "turnsPerVoter", "turnsPerIp", "limitWindowS", "signedInFactor"] },
  { legend: "capacityLegend", fields: ["liveInFlightPerModel", "turnMaxChars", "conversationMaxChars"] },
];

/** A number box's text as the schema reads it: empty is no number at all. */
const asNumber = (text: unknown) => (text === "" || text === null || text === undefined ? undefined : Number(text));

/** Every arena setting in one form; each field's error is shown beside it. */
export function ArenaSettingsForm({ initial, said }: { initial: ArenaSettingsInput; said: Said }) {
  const [saved, setSaved] = useState(false);
  const { register, handleSubmit, send, formState: { errors, isSubmitting } } = useAdminForm(arenaSettingsInput, initial);

  const save = handleSubmit(async (input) => {
    setSaved(false);
    const result = await send("/api/admin/settings", { method: "PUT", body: input });
    if (result.ok) setSaved(true);
  });

  return (
    <form className="admin-form" onSubmit={save} onChange={() => setSaved(false)} noValidate data-testid="arena-settings">
      <fieldset>
        <legend>{said.publication}</legend>
        {FLAGS.map((name) => (
          <label key={name} className="wide">
            <input type="checkbox" {...register(name)} data-testid={`settings-${name}`} />{" "}
            {said[name]}
            <FieldError errors={errors} name={name} />
          </label>
        ))}
      </fieldset>
      {GROUPS.map((g) => (
        <fieldset key={g.legend}>
          <legend>{said[g.legend]}</legend>
          {g.fields.map((name) => (
            <Field key={name} label={said[name]} name={name} errors={errors} errorTestId={`settings-error-${name}`}>
              <input type="number" step={1} {...register(name, { setValueAs: asNumber })} {...invalidProps(errors, name)} data-testid={`settings-${name}`} />
            </Field>
          ))}
        </fieldset>
      ))}
      <div className="wide admin-row">
        <button type="submit" disabled={isSubmitting} data-testid="settings-save">{isSubmitting ? said.saving : said.save}</button>
        {saved && <span className="small" data-testid="settings-message">{said.saved}</span>}
        <FormError errors={errors} />
      </div>
    </form>
  );
}
