"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, Legend } from "recharts";
import { chartValue } from "@/lib/arena/rating-format";

export function RatingHistory({ points }: { points: { version: number; bt: number | null; ciLow: number | null; ciHigh: number | null; elo: number }[] }) {
  // Stored runs hold null where a bound does not exist; the chart leaves those points out.
  const data = points.map((p) => ({ ...p, bt: chartValue(p.bt), ciLow: chartValue(p.ciLow), ciHigh: chartValue(p.ciHigh), elo: Math.round(p.elo) }));
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
