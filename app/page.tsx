import Link from "next/link";
import { messages } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";

export default async function HomePage() {
  const { site, nav, home } = messages(await currentLang());
  return (
    <div className="hero">
      <h1>{site.name}</h1>
      <p className="muted">{home.intro}</p>
      <div className="grid">
        <Link className="card" href="/battle" data-testid="home-battle">
          <strong>{home.battle}</strong>
          <p className="muted">{home.battleHint}</p>
        </Link>
        <Link className="card" href="/leaderboard" data-testid="home-leaderboard">
          <strong>{nav.leaderboard}</strong>
          <p className="muted">{home.leaderboardHint}</p>
        </Link>
        <Link className="card" href="/admin" data-testid="home-admin">
          <strong>{nav.admin}</strong>
          <p className="muted">{home.adminHint}</p>
        </Link>
      </div>
    </div>
  );
}
