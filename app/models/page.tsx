import Link from "next/link";
import { getModelsIndex } from "@/lib/arena/browse";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";

export const generateMetadata = titleFrom("nav.models");

export default async function ModelsIndexPage() {
  const { nav, models: m } = messages(await currentLang());
  const models = await getModelsIndex();
  const kind = { local: m.kindLocal, openai: m.kindOpenai, offline: m.kindOffline } as const;
  return (
    <div>
      <h1>{nav.models}</h1>
      {models.length === 0 && <p className="muted">{m.empty}</p>}
      <div className="model-cards" data-testid="models-index">
        {models.map((model) => (
          <article key={model.slug} className="card" data-testid={`model-card-${model.slug}`}>
            <h2><Link href={`/models/${model.slug}`}>{model.displayName}</Link></h2>
            <p className="muted small">{[model.organisation, model.licence, kind[model.kind], model.status === "retired" && m.retired].filter(Boolean).join(" · ")}</p>
            <p data-testid="model-card-rating">
              {model.rating && model.rating.bt !== null ? `BT ${Math.round(model.rating.bt)}` : "BT –"}
              {" · "}{model.rating?.rank ? `#${model.rating.rank}` : model.rating ? m.provisional : m.notRated}
              {" · "}{fill(m.battleCount, { n: model.rating?.battles ?? 0 })}
            </p>
          </article>
        ))}
      </div>
    </div>
  );
}
