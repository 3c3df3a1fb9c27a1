import { RatingSettingsForm } from "@/components/admin/rating-settings-form";
import { ratingSettingsOverview } from "@/lib/admin/ratings";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminRatings.title");

export default async function AdminRatingsPage() {
  await requireAdminPage("/admin/ratings");
  const said = messages(await currentLang()).adminRatings;
  const { settings, models, latest } = await ratingSettingsOverview();
  const anchorName = (id: string) => models.find((m) => m.id === id)?.displayName ?? id;
  return (
    <div>
      <h1>{said.title}</h1>
      <div className="card" data-testid="ratings-latest">
        {latest ? (
          <>
            <div>{fill(said.latest, { version: latest.version, votes: latest.voteCount, at: latest.createdAt.toISOString().replace("T", " ").slice(0, 19) })}</div>
            <div data-testid="ratings-scale">
              {fill(said.scale, { scale: latest.scale.anchor ? `${anchorName(latest.scale.anchor.model)} = ${latest.scale.anchor.rating}` : said.scaleMean })}
            </div>
            <div data-testid="ratings-min-battles">{fill(said.ranking, { n: settings.minBattlesRanked })}</div>
            <div data-testid="ratings-dedup" data-excluded={latest.dedup.excludedVotes}>
              {fill(said.dedup, {
                text: latest.dedup.threshold > 0
                  ? fill(said.dedupOn, { excluded: latest.dedup.excludedVotes, prompts: latest.dedup.prompts, threshold: latest.dedup.threshold })
                  : said.dedupOff,
              })}
            </div>
          </>
        ) : (
          <div className="muted">{said.none}</div>
        )}
      </div>
      <RatingSettingsForm
        initial={{ anchorModelId: settings.anchorModelId, anchorRating: settings.anchorRating, dedupThreshold: settings.dedupThreshold, minBattlesRanked: settings.minBattlesRanked }}
        models={models.map((m) => ({ id: m.id, label: `${m.displayName} (${m.slug})` }))}
        said={said}
      />
    </div>
  );
}
