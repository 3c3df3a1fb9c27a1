"use client";

import { ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from "recharts";

type Cell = { x: number; y: number; value: number | null; label: string };

function colour(value: number | null, max: number, percent: boolean): string {
  if (value === null) return "#f0eee9";
  const t = percent ? value : max > 0 ? value / max : 0;
  // White → the arena's red.
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 179)}, ${mix(255, 38)}, ${mix(255, 30)})`;
}

/** A models × models matrix drawn as coloured squares (row model against column model). */
export function Heatmap({ names, values, percent, testId }: { names: string[]; values: (number | null)[][]; percent: boolean; testId: string }) {
  const n = names.length;
  const max = Math.max(0, ...values.flat().map((v) => v ?? 0));
  const cells: Cell[] = [];
  values.forEach((row, i) => row.forEach((value, j) => cells.push({
    x: j, y: n - 1 - i, value,
    label: value === null ? "–" : percent ? `${Math.round(value * 100)}%` : String(value),
  })));
  const size = Math.max(200, Math.min(560, 60 * n + 120));
  return (
    <div className="card" data-testid={testId} style={{ height: size, maxWidth: size + 80 }}>
      <ResponsiveContainer width="100%" height="100%">
        <ScatterChart margin={{ top: 10, right: 10, bottom: 60, left: 60 }}>
          <XAxis type="number" dataKey="x" domain={[-0.5, n - 0.5]} ticks={names.map((_, i) => i)} tickFormatter={(i: number) => names[i] ?? ""} interval={0} angle={-30} textAnchor="end" />
          <YAxis type="number" dataKey="y" domain={[-0.5, n - 0.5]} ticks={names.map((_, i) => i)} tickFormatter={(i: number) => names[n - 1 - i] ?? ""} interval={0} width={90} />
          <Tooltip content={({ payload }) => {
            const c = payload?.[0]?.payload as Cell | undefined;
            return c ? <div className="card small">{names[n - 1 - c.y]} vs {names[c.x]}: {c.label}</div> : null;
          }} />
          <Scatter data={cells} shape={(props: unknown) => {
            const { cx, cy, payload } = props as { cx: number; cy: number; payload: Cell };
            // The plot area is the chart minus its margins (60 + 10 across, 10 + 60 down).
            const side = Math.max(12, (size - 130) / n - 2);
            return (
              <g>
                <rect x={cx - side / 2} y={cy - side / 2} width={side} height={side} fill={colour(payload.value, max, percent)} stroke="#fff" />
                <text x={cx} y={cy + 4} textAnchor="middle" fontSize={11} fill="#1d1b18">{payload.label}</text>
              </g>
            );
          }} />
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}
