"use client";

import { useState } from "react";
import type { ArenaSettingsInput } from "@/lib/arena/arena-settings";
import { callApi } from "./api";

type FlagField = "publishLivePrompts" | "publishAnswersInRotation" | "signupOpen";
export type NumberField = Exclude<keyof ArenaSettingsInput, FlagField>;
type Field = keyof ArenaSettingsInput;

const FLAGS: { name: FlagField; label: string }[] = [
  { name: "publishLivePrompts", label: "公开自由提问 Publish live prompts and their answers on model pages and head-to-head pages (after the vote)" },
  { name: "publishAnswersInRotation", label: "公开仍在轮换中的题库答案 Publish bank answers while their question is still drawn for rated battles" },
  { name: "signupOpen", label: "开放注册 Open sign-up: anyone may create a voter account on /signup" },
];

const GROUPS: { legend: string; fields: { name: NumberField; label: string }[] }[] = [
  {
    legend: "自由提问与追问的次数 Live battles and follow-up turns per window",
    fields: [
      { name: "liveBattlesPerVoter", label: "每位投票者的自由提问 Live battles per voter" },
      { name: "liveBattlesPerIp", label: "每个 IP 的自由提问 Live battles per IP" },
      { name: "turnsPerVoter", label: "每位投票者的追问 Turns per voter" },
      { name: "turnsPerIp", label: "每个 IP 的追问 Turns per IP" },
      { name: "limitWindowS", label: "计数窗口（秒） Window (seconds)" },
      { name: "signedInFactor", label: "登录用户倍数 Signed-in voters: limits ×" },
    ],
  },
  {
    legend: "生成容量与长度 Capacity and length",
    fields: [
      { name: "liveInFlightPerModel", label: "每个模型同时进行的自由回答（随机与指定对战各计） Live answers in flight per model (drawn and named battles counted apart)" },
      { name: "turnMaxChars", label: "每轮问题最长（字符） Prompt per turn (characters)" },
      { name: "conversationMaxChars", label: "每场问题合计最长（字符） Prompts per battle (characters)" },
    ],
  },
];

type Props = { initial: ArenaSettingsInput; bounds: Record<NumberField, { min: number; max: number }> };

/** Every arena setting in one form; each field's error is shown beside it. */
export function ArenaSettingsForm({ initial, bounds }: Props) {
  const [flags, setFlags] = useState<Record<FlagField, boolean>>({
    publishLivePrompts: initial.publishLivePrompts, publishAnswersInRotation: initial.publishAnswersInRotation, signupOpen: initial.signupOpen,
  });
  const [numbers, setNumbers] = useState<Record<NumberField, string>>(
    () => Object.fromEntries(GROUPS.flatMap((g) => g.fields).map((f) => [f.name, String(initial[f.name])])) as Record<NumberField, string>,
  );
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Field, string>>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);

  /** The same bounds the API checks, for every field at once (the API names only the first). */
  function check(): Partial<Record<Field, string>> {
    const found: Partial<Record<Field, string>> = {};
    for (const [name, raw] of Object.entries(numbers) as [NumberField, string][]) {
      const { min, max } = bounds[name];
      const value = Number(raw);
      if (raw.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
        found[name] = `${min} – ${max} 之间的整数 A whole number from ${min} to ${max}`;
      }
    }
    return found;
  }

  async function save(event: React.FormEvent) {
    event.preventDefault();
    setMessage(null);
    const found = check();
    setFieldErrors(found);
    if (Object.keys(found).length) return;
    setSaving(true);
    const body = { ...flags, ...Object.fromEntries(Object.entries(numbers).map(([k, v]) => [k, Number(v)])) };
    const result = await callApi("/api/admin/settings", { method: "PUT", body });
    setSaving(false);
    if (result.ok) return setMessage({ ok: true, text: "已保存。Saved." });
    const field = result.error.field as Field | undefined;
    if (field && (field in flags || field in numbers)) setFieldErrors({ [field]: result.error.message });
    else setMessage({ ok: false, text: result.error.message });
  }

  const error = (name: Field) =>
    fieldErrors[name] ? <span className="error small" data-testid={`settings-error-${name}`}>{fieldErrors[name]}</span> : null;

  return (
    <form className="admin-form" onSubmit={save} noValidate data-testid="arena-settings">
      <fieldset>
        <legend>公开 Publication</legend>
        {FLAGS.map((f) => (
          <label key={f.name} className="wide">
            <input type="checkbox" checked={flags[f.name]} onChange={(e) => setFlags({ ...flags, [f.name]: e.target.checked })} data-testid={`settings-${f.name}`} />{" "}
            {f.label}
            {error(f.name)}
          </label>
        ))}
      </fieldset>
      {GROUPS.map((g) => (
        <fieldset key={g.legend}>
          <legend>{g.legend}</legend>
          {g.fields.map((f) => (
            <label key={f.name}>
              {f.label}
              <input
                type="number" step={1} min={bounds[f.name].min} max={bounds[f.name].max} value={numbers[f.name]}
                onChange={(e) => setNumbers({ ...numbers, [f.name]: e.target.value })}
                aria-invalid={fieldErrors[f.name] ? true : undefined} data-testid={`settings-${f.name}`}
              />
              {error(f.name)}
            </label>
          ))}
        </fieldset>
      ))}
      <div className="wide admin-row">
        <button type="submit" disabled={saving} data-testid="settings-save">{saving ? "保存中… Saving…" : "保存 Save"}</button>
        {message && <span className={message.ok ? "small" : "error small"} data-testid="settings-message">{message.text}</span>}
      </div>
    </form>
  );
}
