"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, Legend } from "recharts";
import { chartValue } from "@/lib/arena/rating-format";

type Point = { version: number; bt: number | null; ciLow: number | null; ciHigh: number | null; elo: number };

/** A model's ratings run by run; `names` are the lines' names in the page's language. */
export function RatingHistory({ points, names }: { points: Point[]; names: Record<"bt" | "ciLow" | "ciHigh" | "elo", string> }) {
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
          <Line dataKey="bt" name={names.bt} stroke="#b3261e" dot={false} />
          <Line dataKey="ciLow" name={names.ciLow} stroke="#d9a09c" dot={false} strokeDasharray="4 3" />
          <Line dataKey="ciHigh" name={names.ciHigh} stroke="#d9a09c" dot={false} strokeDasharray="4 3" />
          <Line dataKey="elo" name={names.elo} stroke="#4078f2" dot={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
