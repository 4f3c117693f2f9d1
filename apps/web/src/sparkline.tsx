/** A small line chart of the last samples (oldest first), from 0 to a bit above the largest (or to `max`, when given and larger). */
export function Sparkline({ values, max, label }: { values: number[]; max?: number; label: string }) {
  const width = 160;
  const height = 36;
  const top = Math.max(max ?? 0, Math.max(...values) * 1.25, 1e-9);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / top) * height).toFixed(1)}`).join(" ");
  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <polygon
        points={`0,${height} ${points} ${((values.length - 1) * step).toFixed(1)},${height}`}
        fill="currentColor"
        opacity="0.15"
      />
      <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}
