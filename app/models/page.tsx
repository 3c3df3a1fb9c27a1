import Link from "next/link";
import { getModelsIndex } from "@/lib/arena/browse";
import { currentLang } from "@/lib/lang-server";

export const dynamic = "force-dynamic";

export async function generateMetadata() {
  return { title: (await currentLang()) === "zh" ? "模型 · 擂台" : "Models · Leitai" };
}

export default async function ModelsIndexPage() {
  const lang = await currentLang();
  const models = await getModelsIndex();
  const zh = lang === "zh";
  const kind = { local: zh ? "本地引擎" : "served here", openai: zh ? "OpenAI 兼容接口" : "OpenAI-compatible API", offline: zh ? "离线答案" : "imported answers" } as const;
  return (
    <div>
      <h1>{zh ? "模型" : "Models"}</h1>
      {models.length === 0 && <p className="muted">{zh ? "还没有模型。" : "No models yet."}</p>}
      <div className="model-cards" data-testid="models-index">
        {models.map((m) => (
          <article key={m.slug} className="card" data-testid={`model-card-${m.slug}`}>
            <h2><Link href={`/models/${m.slug}`}>{m.displayName}</Link></h2>
            <p className="muted small">{[m.organisation, m.licence, kind[m.kind]].filter(Boolean).join(" · ")}{m.status === "retired" && (zh ? " · 已退役" : " · retired")}</p>
            <p data-testid="model-card-rating">
              {m.rating && m.rating.bt !== null ? `BT ${Math.round(m.rating.bt)}` : "BT –"}
              {" · "}{m.rating?.rank ? `#${m.rating.rank}` : m.rating ? (zh ? "暂定" : "provisional") : (zh ? "尚未评分" : "not rated yet")}
              {" · "}{m.rating?.battles ?? 0} {zh ? "场" : "battles"}
            </p>
          </article>
        ))}
      </div>
    </div>
  );
}
