"""A small SVG chart for reports: achievement rate by field of action, per quarter.

Drawn by hand (a few rectangles and labels) rather than pulling a plotting library into a
web service; withheld values are drawn as an empty outlined bar marked "×", and the
subtitle states the perturbation (cell key method) like every statistics response.
"""

from __future__ import annotations

from html import escape
from typing import Any

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def achievement_chart(stats: dict[str, Any], title: str) -> str:
    """Grouped bars: one group per quarter, one bar per field of action (rate 0-100 %)."""
    rows = [r for r in stats["goals"]["rows"] if "total" not in r["group"].values()]
    quarters = sorted({r["group"]["quarter"] for r in rows})
    fields = sorted({r["group"]["field_of_action"] for r in rows})
    by_key = {(r["group"]["quarter"], r["group"]["field_of_action"]): r["achievement_rate"] for r in rows}
    width, height, left, top, bottom = 960, 420, 60, 50, 90
    plot_w, plot_h = width - left - 170, height - top - bottom
    group_w = plot_w / max(1, len(quarters))
    bar_w = max(2.0, (group_w - 8) / max(1, len(fields)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="24" font-size="16">{escape(title)}</text>',
        f'<text x="{left}" y="40" fill="#555">{escape(stats["period"]["from"])} – '
        f"{escape(stats['period']['to'])} · counts perturbed by at most "
        f"±{stats['disclosure_control']['max_noise']}, values under {stats['threshold']} withheld (×); "
        "rates from perturbed counts</text>",
    ]
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h - plot_h * pct / 100
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{pct} %</text>')
    for qi, quarter in enumerate(quarters):
        x0 = left + qi * group_w + 4
        for fi, field in enumerate(fields):
            cell = by_key.get((quarter, field))
            x = x0 + fi * bar_w
            if cell is None:
                continue
            if cell["suppressed"] or cell["value"] is None:
                parts.append(
                    f'<rect x="{x:.1f}" y="{top + plot_h - 12:.1f}" width="{bar_w - 1:.1f}" height="12" '
                    f'fill="none" stroke="{PALETTE[fi % len(PALETTE)]}"/>'
                )
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - 2:.1f}" text-anchor="middle" '
                    f'font-size="9">×</text>'
                )
                continue
            h = plot_h * float(cell["value"])
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[fi % len(PALETTE)]}"><title>{escape(field)} {escape(quarter)}: '
                f"{float(cell['value']) * 100:.0f} %</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group_w / 2 - 4:.1f}" y="{top + plot_h + 18:.1f}" text-anchor="middle">'
            f"{escape(quarter)}</text>"
        )
    for fi, field in enumerate(fields):
        y = top + 14 * fi
        colour = PALETTE[fi % len(PALETTE)]
        parts.append(f'<rect x="{left + plot_w + 20}" y="{y}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w + 36}" y="{y + 9}">{escape(field)}</text>')
    if not rows:
        parts.append(f'<text x="{left + 20}" y="{top + plot_h / 2}">No goals in this period.</text>')
    parts.append("</svg>")
    return "\n".join(parts)
