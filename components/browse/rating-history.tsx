"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, Legend } from "recharts";

export function RatingHistory({ points }: { points: { version: number; bt: number; ciLow: number; ciHigh: number; elo: number }[] }) {
  const data = points.map((p) => ({ ...p, bt: Math.round(p.bt), ciLow: Math.round(p.ciLow), ciHigh: Math.round(p.ciHigh), elo: Math.round(p.elo) }));
  return (
    <div className="card" style={{ height: 260 }} data-testid="rating-history">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 10, right: 20, bottom: 10, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="version" tickFormatter={(v: number) => `v${v}`} />
          <YAxis domain={["auto", "auto"]} width={50} />
          <Tooltip />
          <Legend />
          <Line dataKey="bt" name="Bradley–Terry" stroke="#b3261e" dot={false} />
          <Line dataKey="ciLow" name="CI 2.5%" stroke="#d9a09c" dot={false} strokeDasharray="4 3" />
          <Line dataKey="ciHigh" name="CI 97.5%" stroke="#d9a09c" dot={false} strokeDasharray="4 3" />
          <Line dataKey="elo" name="Elo" stroke="#4078f2" dot={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
