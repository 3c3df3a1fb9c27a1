"use client";

import { CartesianGrid, ErrorBar, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from "recharts";

export type CiPoint = { name: string; bt: number | null; ciLow: number | null; ciHigh: number | null };

const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);

/**
 * Bradley–Terry ratings with their 95% bootstrap intervals, one point per model. A model
 * without a finite rating has no point; an open side of an interval has no whisker.
 */
export function CiChart({ points }: { points: CiPoint[] }) {
  const data = points.flatMap((p, i) => finite(p.bt)
    ? [{ x: i, y: Math.round(p.bt), name: p.name, err: [finite(p.ciLow) ? p.bt - p.ciLow : 0, finite(p.ciHigh) ? p.ciHigh - p.bt : 0] }]
    : []);
  return (
    <div className="card" data-testid="ci-chart" style={{ height: 280 }}>
      <ResponsiveContainer width="100%" height="100%">
        <ScatterChart margin={{ top: 10, right: 20, bottom: 40, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" dataKey="x" domain={[-0.5, points.length - 0.5]} ticks={points.map((_, i) => i)}
            tickFormatter={(i: number) => points[i]?.name ?? ""} interval={0} angle={-20} textAnchor="end" />
          <YAxis type="number" dataKey="y" domain={["auto", "auto"]} width={50} />
          <Tooltip formatter={(v) => String(v)} labelFormatter={() => ""} />
          <Scatter data={data} fill="#b3261e">
            <ErrorBar dataKey="err" width={6} strokeWidth={2} stroke="#b3261e" direction="y" />
          </Scatter>
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}
