import { notFound } from "next/navigation";
import { ActionButton } from "@/components/admin/action-button";
import { AnswerImport } from "@/components/admin/answer-import";
import { ModelForm } from "@/components/admin/model-form";
import { ModelTest } from "@/components/admin/model-test";
import { answersInPlay, listAnswerSets } from "@/lib/admin/answers-import";
import { importIssueTexts } from "@/lib/admin/questions-import";
import { draftStatusOf } from "@/lib/admin/model-draft";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, knownErrorText, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { findAdminModel } from "@/lib/models/admin";
import { statusLabel } from "../labels";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminModel.title");

export default async function EditModelPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireAdminPage(`/admin/models/${id}`);
  const all = messages(await currentLang());
  const said = all.adminModel;
  const model = await findAdminModel({ id });
  if (!model) notFound();
  const offline = model.kind === "offline";
  const [draft, answerSets, inPlay] = await Promise.all([
    draftStatusOf(model), offline ? listAnswerSets({ modelId: id }) : Promise.resolve([]), offline ? answersInPlay({ modelId: id }) : Promise.resolve(0),
  ]);
  return (
    <div>
      <h1 data-testid="model-title"><span data-stored>{model.displayName}</span> <span className={`badge ${model.status}`} data-testid="model-status" data-status={model.status}>{statusLabel(all.adminModels, model.status)}</span></h1>
      {model.lastCheck && (
        <p className={`notice ${model.lastCheck.ok ? "ok" : "bad"}`} data-testid="model-last-check">
          {/* An audit entry from before checks were catalogued has only its English message. */}
          {fill(model.lastCheck.ok ? said.lastCheckOk : said.lastCheckFailed, { message: knownErrorText(model.lastCheck, all.errors) ?? model.lastCheck.message })}
        </p>
      )}
      <div className="admin-row">
        {model.status !== "active" && <ActionButton url={`/api/admin/models/${id}/status`} body={{ status: "active" }} label={all.adminModels.enable} testId="model-enable" quiet={false} />}
        {model.status === "active" && <ActionButton url={`/api/admin/models/${id}/status`} body={{ status: "disabled" }} label={all.adminModels.disable} testId="model-disable" />}
        {model.status !== "retired" && <ActionButton url={`/api/admin/models/${id}/status`} body={{ status: "retired" }} label={all.adminModels.retire} confirm={all.adminModels.confirmRetire} testId="model-retire" />}
        <span className="muted small">{fill(said.battlesElo, { battles: model.battles, elo: Math.round(model.elo) })}</span>
      </div>
      {model.kind === "local" && (
        <section data-testid="model-draft">
          <h2>{said.draftHeading}</h2>
          {draft ? (
            <p className={`notice ${draft.state === "running" ? "ok" : draft.state === "failed" ? "bad" : ""}`} data-testid="model-draft-status" data-state={draft.state}>
              {draft.configured && fill(said.draftConfigured, { path: draft.configured.path, n: draft.configured.numSpeculativeTokens })}
              {fill(said[draft.key], draft.values)}
              {draft.acceptanceRate != null && fill(said.draftAcceptance, { pct: Math.round(draft.acceptanceRate * 100) })}
              {draft.tokensPerStep !== undefined && fill(said.draftTokensPerStep, { n: draft.tokensPerStep.toFixed(2) })}
              {draft.active === false && said.draftPlainNow}
            </p>
          ) : (
            <p className="muted small" data-testid="model-draft-status" data-state="none">{said.noDraft}</p>
          )}
        </section>
      )}
      {model.kind === "offline" && (
        <section data-testid="model-answers">
          <h2>{said.answersHeading}</h2>
          <p className="muted small">
            {said.answersHelp}{" "}
            <a href={`/api/admin/models/${id}/answers?format=jsonl`} data-testid="answers-export">{said.exportJsonl}</a> · <a href={`/api/admin/models/${id}/answers?format=csv`}>{said.exportCsv}</a>
          </p>
          <AnswerImport modelId={id} said={all.adminAnswerImport} issues={importIssueTexts(all)} />
          {answerSets.length > 0 && <p data-testid="answers-in-play" data-n={inPlay}>{fill(said.answersInPlay, { n: inPlay })}</p>}
          {answerSets.length > 0 ? (
            <table className="admin-table" data-testid="answer-sets">
              <thead><tr><th>{said.colVersion}</th><th>{said.colAnswers}</th><th>{said.colSource}</th><th>{said.colImported}</th></tr></thead>
              <tbody>
                {answerSets.map((s) => (
                  <tr key={s.id} data-testid="answer-set-row">
                    <td className="num">{s.version}</td><td className="num">{s.rowCount}</td>
                    <td className="mono small">{JSON.stringify(s.source)}</td>
                    <td>{s.createdAt.toISOString().replace("T", " ").slice(0, 16)} {s.createdBy ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : <p className="muted small" data-testid="answer-sets-none">{said.noAnswerSets}</p>}
        </section>
      )}
      {model.kind !== "offline" && <ModelTest modelId={id} active={model.status === "active"} said={said} />}
      <h2>{said.editHeading}</h2>
      <ModelForm initial={{ ...model, hasBattles: model.battles > 0, kind: model.kind }} said={all.adminModelForm} />
    </div>
  );
}
