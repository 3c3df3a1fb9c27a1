import { notFound } from "next/navigation";
import { ActionButton } from "@/components/admin/action-button";
import { ModelForm } from "@/components/admin/model-form";
import { ModelTest } from "@/components/admin/model-test";
import { AnswerImport } from "@/components/admin/answer-import";
import { listAnswerSets } from "@/lib/admin/answers-import";
import { DEFAULT_TEST_PROMPT } from "@/lib/admin/model-test";
import { requireAdminPage } from "@/lib/auth/session";
import { draftStatusOf } from "@/lib/admin/model-draft";
import { findAdminModel } from "@/lib/models/admin";

export const dynamic = "force-dynamic";

export default async function EditModelPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireAdminPage(`/admin/models/${id}`);
  const model = await findAdminModel({ id });
  if (!model) notFound();
  const [draft, answerSets] = await Promise.all([draftStatusOf(model), model.kind === "offline" ? listAnswerSets({ modelId: id }) : Promise.resolve([])]);
  return (
    <div>
      <h1 data-testid="model-title">{model.displayName} <span className={`badge ${model.status}`} data-testid="model-status">{model.status}</span></h1>
      {model.lastCheck && (
        <p className={`notice ${model.lastCheck.ok ? "ok" : "bad"}`} data-testid="model-last-check">
          {model.lastCheck.ok ? "✓ 连通 Reachable: " : "✗ 检查未通过，已停用 Check failed, saved as disabled: "}{model.lastCheck.message}
        </p>
      )}
      <div className="admin-row">
        {model.status !== "active" && <ActionButton url={`/api/admin/models/${id}/status`} body={{ status: "active" }} label="启用 Enable" testId="model-enable" quiet={false} />}
        {model.status === "active" && <ActionButton url={`/api/admin/models/${id}/status`} body={{ status: "disabled" }} label="停用 Disable" testId="model-disable" />}
        {model.status !== "retired" && <ActionButton url={`/api/admin/models/${id}/status`} body={{ status: "retired" }} label="退役 Retire" confirm="Retire this model?" testId="model-retire" />}
        <span className="muted small">{model.battles} battles · Elo {Math.round(model.elo)}</span>
      </div>
      {model.kind === "local" && (
        <section data-testid="model-draft">
          <h2>推测解码 Speculative decoding</h2>
          {draft ? (
            <p className={`notice ${draft.state === "running" ? "ok" : draft.state === "failed" ? "bad" : ""}`} data-testid="model-draft-status" data-state={draft.state}>
              {draft.configured && <>草稿 Draft {draft.configured.path} · {draft.configured.numSpeculativeTokens} tokens per step — </>}
              {draft.message}
              {draft.acceptanceRate != null && <> · 接受率 acceptance {Math.round(draft.acceptanceRate * 100)} %</>}
              {draft.tokensPerStep !== undefined && <> · {draft.tokensPerStep.toFixed(2)} tokens per step</>}
              {draft.active === false && <> · 当前为普通解码 plain decoding now (speculation does not pay at this load)</>}
            </p>
          ) : (
            <p className="muted small" data-testid="model-draft-status" data-state="none">未设置草稿 No draft: plain decoding. Set one below (a small model with the same tokenizer).</p>
          )}
        </section>
      )}
      {model.kind === "offline" && (
        <section data-testid="model-answers">
          <h2>答案集 Answers</h2>
          <p className="muted small">
            JSONL (question_id or question, category, answer, metadata) or CSV (question_id, question, category, answer). Each commit is a new version; bank battles serve the newest.{" "}
            <a href={`/api/admin/models/${id}/answers?format=jsonl`} data-testid="answers-export">导出 Export JSONL</a> · <a href={`/api/admin/models/${id}/answers?format=csv`}>CSV</a>
          </p>
          <AnswerImport modelId={id} />
          {answerSets.length > 0 ? (
            <table className="admin-table" data-testid="answer-sets">
              <thead><tr><th>版本 Version</th><th>答案 Answers</th><th>来源 Source</th><th>导入 Imported</th></tr></thead>
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
          ) : <p className="muted small" data-testid="answer-sets-none">尚无答案集 No answer set yet.</p>}
        </section>
      )}
      {model.kind !== "offline" && <ModelTest modelId={id} defaultPrompt={DEFAULT_TEST_PROMPT} active={model.status === "active"} />}
      <h2>编辑 Edit</h2>
      <ModelForm initial={{ ...model, hasBattles: model.battles > 0, kind: model.kind }} />
    </div>
  );
}
