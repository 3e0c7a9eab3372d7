/**
 * The comparison as one SVG: a panel per figure, a bar per recorder. Plain strings, no dependencies.
 */

export interface Panel {
  title: string;
  unit: string;
  /** One value per system, in the systems' order; null where the system has no value. */
  values: (number | null)[];
  /** A reference line (the request, the floor), drawn dashed. */
  mark?: { value: number; label: string };
}

const COLORS = ['#1b7f3b', '#a05a00', '#5a3fa0', '#2f5fa8'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(title: string, systems: readonly string[], panels: readonly Panel[]): string {
  const pw = 420;
  const barH = 22;
  const ph = 44 + systems.length * (barH + 8);
  const labelW = 150;
  const cols = 2;
  const rows = Math.ceil(panels.length / cols);
  const width = cols * pw + 20;
  const height = 40 + rows * (ph + 16) + 20 * Math.ceil(systems.length / 2);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((p, i) => {
    const x0 = 10 + (i % cols) * pw;
    const y0 = 40 + Math.floor(i / cols) * (ph + 16);
    const max = Math.max(p.mark?.value ?? 0, ...p.values.map((v) => v ?? 0)) * 1.15 || 1;
    const scale = (v: number) => ((pw - labelW - 30) * v) / max;
    out.push(`<text x="${x0}" y="${y0 + 14}" font-weight="bold">${esc(`${p.title} (${p.unit})`)}</text>`);
    systems.forEach((s, j) => {
      const y = y0 + 26 + j * (barH + 8);
      const v = p.values[j] ?? null;
      out.push(`<text x="${x0}" y="${y + 15}">${esc(s)}</text>`);
      if (v === null) {
        out.push(`<text x="${x0 + labelW}" y="${y + 15}" fill="#888">n/a</text>`);
        return;
      }
      const w = Math.max(1, scale(v));
      out.push(
        `<rect x="${x0 + labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[j % COLORS.length]}"/>`,
        `<text x="${(x0 + labelW + w + 4).toFixed(1)}" y="${y + 15}">${esc(fmt(v))}</text>`,
      );
    });
    if (p.mark !== undefined) {
      const mx = x0 + labelW + scale(p.mark.value);
      const bottom = y0 + 26 + systems.length * (barH + 8);
      out.push(
        `<line x1="${mx.toFixed(1)}" y1="${y0 + 20}" x2="${mx.toFixed(1)}" y2="${bottom}" stroke="#c00" stroke-dasharray="4 3"/>`,
        `<text x="${(mx + 3).toFixed(1)}" y="${bottom + 10}" fill="#c00" font-size="10">${esc(p.mark.label)}</text>`,
      );
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function fmt(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
