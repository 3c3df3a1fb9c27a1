import Link from "next/link";

export default function HomePage() {
  return (
    <div className="hero">
      <h1>擂台 Leitai</h1>
      <p className="muted">
        两个匿名模型回答同一个问题，你投票之后才揭晓它们的名字。
        <br />
        Two anonymous models answer the same question; their names are revealed only after you vote.
      </p>
      <div className="grid">
        <Link className="card" href="/battle" data-testid="home-battle">
          <strong>开始对战 · Battle</strong>
          <p className="muted">Vote on two blind answers.</p>
        </Link>
        <Link className="card" href="/leaderboard" data-testid="home-leaderboard">
          <strong>排行榜 · Leaderboard</strong>
          <p className="muted">Elo and Bradley–Terry ratings with confidence intervals.</p>
        </Link>
        <Link className="card" href="/admin" data-testid="home-admin">
          <strong>管理 · Admin</strong>
          <p className="muted">Models, question bank, pre-generation, moderation.</p>
        </Link>
      </div>
    </div>
  );
}
