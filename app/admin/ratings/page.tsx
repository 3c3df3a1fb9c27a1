import { RatingSettingsForm } from "@/components/admin/rating-settings-form";
import { ratingSettingsOverview } from "@/lib/admin/ratings";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function AdminRatingsPage() {
  await requireAdminPage("/admin/ratings");
  const { settings, models, latest } = await ratingSettingsOverview();
  const anchorName = (id: string) => models.find((m) => m.id === id)?.displayName ?? id;
  return (
    <div>
      <h1>评分设置 Rating settings</h1>
      <div className="card" data-testid="ratings-latest">
        {latest ? (
          <>
            <div>最新评分 Latest run v{latest.version} · {latest.voteCount} 票 votes rated · {latest.createdAt.toISOString().replace("T", " ").slice(0, 19)}</div>
            <div data-testid="ratings-scale">
              刻度 Scale: {latest.scale.anchor ? `${anchorName(latest.scale.anchor.model)} = ${latest.scale.anchor.rating}` : "平均 1000 mean 1000 over the rated models"}
            </div>
            <div data-testid="ratings-min-battles">
              排名 Ranking: 对战少于 {settings.minBattlesRanked} 场的模型列为暂定 models with fewer than {settings.minBattlesRanked} battles are listed as provisional, without a rank
            </div>
            <div data-testid="ratings-dedup" data-excluded={latest.dedup.excludedVotes}>
              去重 Prompt de-duplication:{" "}
              {latest.dedup.threshold > 0
                ? `${latest.dedup.excludedVotes} 票未计入 votes left out (kept, not rated) from ${latest.dedup.prompts} prompts asked more than ${latest.dedup.threshold} times`
                : "off"}
            </div>
          </>
        ) : (
          <div className="muted">还没有评分。No rating run yet.</div>
        )}
      </div>
      <RatingSettingsForm
        initial={{ anchorModelId: settings.anchorModelId, anchorRating: settings.anchorRating, dedupThreshold: settings.dedupThreshold, minBattlesRanked: settings.minBattlesRanked }}
        models={models.map((m) => ({ id: m.id, label: `${m.displayName} (${m.slug})` }))}
      />
    </div>
  );
}
