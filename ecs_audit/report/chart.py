"""Inline SVG line charts for the history section: no script, no network, every label escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from ecs_audit.report.trend import TrendPoint

_PALETTE = ("#1f5fa8", "#b3261e", "#2e7d32", "#8e24aa", "#ef6c00", "#00838f", "#6d4c41", "#546e7a")


def _polylines(values: list[int | None], xs: list[float], y) -> list[str]:  # type: ignore[no-untyped-def]
    """Runs without a score break the line rather than drawing it to zero."""
    lines, current = [], []
    for x, v in zip(xs, values):
        if v is None:
            if current:
                lines.append(current)
            current = []
        else:
            current.append(f"{x:.1f},{y(v):.1f}")
    if current:
        lines.append(current)
    return [" ".join(points) for points in lines]


def score_chart(
    points: list[TrendPoint], series: dict[str, list[int | None]], title: str, width: int = 640, height: int = 180, axes: bool = True
) -> Markup:
    """Scores (0-100) over the runs in `points`, one line per series; without `axes`, a bare sparkline."""
    left, right, top, bottom = (34, 12, 10, 26) if axes else (4, 4, 4, 4)
    n = len(points)
    span = max(n - 1, 1)
    xs = [left + (width - left - right) * (i / span if n > 1 else 0.5) for i in range(n)]

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / 100)

    out = [f'<svg class="trend-chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    same_day = len({p.generated_at.date() for p in points}) <= 1
    for grid in (0, 50, 100) if axes else (0, 100):
        if not axes:
            out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(grid):.1f}" y2="{y(grid):.1f}" stroke="#e3e3e3" stroke-width="1"/>')
            continue
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(grid):.1f}" y2="{y(grid):.1f}" stroke="#ccc" stroke-width="1"/>')
        out.append(f'<text x="{left - 4}" y="{y(grid) + 4:.1f}" text-anchor="end" font-size="10" fill="#555">{grid}</text>')
    for i in sorted({0, n - 1}) if axes else ():
        if n:
            label = points[i].generated_at.strftime("%Y-%m-%d %H:%M" if same_day else "%Y-%m-%d")
            anchor = "start" if i == 0 and n > 1 else "end" if n > 1 else "middle"
            out.append(f'<text x="{xs[i]:.1f}" y="{height - 8}" text-anchor="{anchor}" font-size="10" fill="#555">{escape(label)}</text>')
    for index, (name, values) in enumerate(series.items()):
        colour = _PALETTE[index % len(_PALETTE)]
        for line in _polylines(values, xs, y):
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{line}"/>')
        for x, v, point in zip(xs, values, points):
            if v is not None:
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"><title>{escape(name)}: {v} '
                    f"({escape(point.run_id)})</title></circle>"
                )
    out.append("</svg>")
    return Markup("".join(out))


def sparkline(points: list[TrendPoint], values: list[int | None], title: str) -> Markup:
    return score_chart(points, {title: values}, title, width=160, height=32, axes=False) if points else Markup("")


def area_series(points: list[TrendPoint], area: str) -> list[int | None]:
    return [p.areas.get(area) for p in points]


def account_series(points: list[TrendPoint], account_id: str) -> list[int | None]:
    return [next((a.score for a in p.accounts if a.account_id == account_id), None) for p in points]
