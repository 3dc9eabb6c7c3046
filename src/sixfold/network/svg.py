"""Small SVG chart primitives for the self-contained HTML report.

Drawn by hand rather than with plotly: the report must open anywhere without JavaScript or a
network connection, stay small enough to e-mail (plotly.min.js alone is ~4.6 MB), and print
cleanly; these charts need nothing but positions and colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from sixfold.network.graph import FloatArray

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


@dataclass(frozen=True, slots=True)
class Node:
    label: str
    size: float  # radius in pixels
    colour: str
    title: str


def _svg(width: float, height: float, body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" style="max-width:{width:.0f}px" role="img" '
        f'aria-label="{escape(title)}" {FONT}>'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def diverging(ratio: float) -> str:
    """Blue below 1 (colder than expected), white at 1, red above; log scale, clipped at 10×."""
    if ratio <= 0:
        return "#2c5c9a"
    t = max(-1.0, min(1.0, math.log10(ratio)))
    low, high = (44, 92, 154), (190, 40, 40)
    end = high if t > 0 else low
    mix = [round(255 + (channel - 255) * abs(t)) for channel in end]
    return f"rgb({mix[0]},{mix[1]},{mix[2]})"


def heatmap(labels: Sequence[str], ratio: FloatArray, observed: FloatArray, title: str) -> str:
    count = len(labels)
    cell = max(8, min(28, 640 // max(count, 1)))
    margin = 150
    parts = []
    for row in range(count):
        y = margin + row * cell
        parts.append(
            f'<text x="{margin - 4}" y="{y + cell * 0.7:.1f}" text-anchor="end">'
            f"{escape(labels[row][:24])}</text>"
        )
        for col in range(count):
            tip = (
                f"{labels[row]} → {labels[col]}: {observed[row, col]:.0f} interactions, "
                f"{ratio[row, col]:.2f}× expected"
            )
            parts.append(
                f'<rect x="{margin + col * cell}" y="{y}" width="{cell}" '
                f'height="{cell}" fill="{diverging(float(ratio[row, col]))}">'
                f"<title>{escape(tip)}</title></rect>"
            )
    for col in range(count):
        x = margin + col * cell + cell * 0.7
        parts.append(
            f'<text transform="translate({x:.1f},{margin - 4}) rotate(-60)">'
            f"{escape(labels[col][:24])}</text>"
        )
    size = margin + count * cell + 10
    return _svg(size, size, "".join(parts), title)


def histogram(values: FloatArray, title: str, *, bins: int = 30, log: bool = False) -> str:
    finite = values[np.isfinite(values)]
    if log:
        finite = np.log10(finite[finite > 0])
    width, height, pad = 360, 180, 30
    if len(finite) == 0:
        return _svg(width, height, f'<text x="10" y="20">{escape(title)}: no data</text>', title)
    counts, edges = np.histogram(finite, bins=bins)
    peak = max(int(counts.max()), 1)
    bar = (width - 2 * pad) / bins
    parts = [f'<text x="{pad}" y="14" font-weight="bold">{escape(title)}</text>']
    for index, count in enumerate(counts.tolist()):
        h = (height - 2 * pad) * count / peak
        parts.append(
            f'<rect x="{pad + index * bar:.1f}" y="{height - pad - h:.1f}" '
            f'width="{bar - 1:.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
            f"<title>{count} people</title></rect>"
        )
    low, high = (10 ** edges[0], 10 ** edges[-1]) if log else (edges[0], edges[-1])
    parts.append(
        f'<text x="{pad}" y="{height - 10}">{low:.3g}</text>'
        f'<text x="{width - pad}" y="{height - 10}" text-anchor="end">{high:.3g}'
        f"{' (log scale)' if log else ''}</text>"
    )
    return _svg(width, height, "".join(parts), title)


def line_chart(labels: Sequence[str], series: dict[str, Sequence[float | None]], title: str) -> str:
    width, height, pad = 720, 220, 40
    parts = [f'<text x="{pad}" y="16" font-weight="bold">{escape(title)}</text>']
    steps = max(len(labels) - 1, 1)
    for number, (name, values) in enumerate(series.items()):
        known = [v for v in values if v is not None]
        if not known:
            continue
        low, high = min(known), max(known)
        span = (high - low) or 1.0
        points = " ".join(
            f"{pad + (width - 2 * pad) * i / steps:.1f},"
            f"{height - pad - (height - 2 * pad) * (v - low) / span:.1f}"
            for i, v in enumerate(values)
            if v is not None
        )
        colour = PALETTE[number % len(PALETTE)]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        parts.append(
            f'<text x="{width - pad}" y="{30 + 14 * number}" text-anchor="end" '
            f'fill="{colour}">{escape(name)}: {low:.3g} to {high:.3g}</text>'
        )
    if labels:
        parts.append(
            f'<text x="{pad}" y="{height - 10}">{escape(labels[0])}</text>'
            f'<text x="{width - pad}" y="{height - 10}" text-anchor="end">'
            f"{escape(labels[-1])}</text>"
        )
    return _svg(width, height, "".join(parts), title)


def circle_network(
    nodes: Sequence[Node],
    edges: Sequence[tuple[int, int, float]],
    title: str,
    *,
    centre: Node | None = None,
) -> str:
    """Nodes on a circle (and optionally one in the middle, index -1 in `edges`)."""
    size, radius = 520, 200
    middle = size / 2
    angle = [2 * math.pi * i / max(len(nodes), 1) for i in range(len(nodes))]
    spots = [(middle + radius * math.cos(a), middle + radius * math.sin(a)) for a in angle]
    widest = max((w for _, _, w in edges), default=1.0) or 1.0
    parts = []
    for a, b, weight in edges:
        (x1, y1) = (middle, middle) if a < 0 else spots[a]
        (x2, y2) = spots[b]
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="#888" stroke-opacity="0.5" '
            f'stroke-width="{0.5 + 5 * weight / widest:.2f}"/>'
        )
    for node, (x, y) in zip(nodes, spots, strict=True):
        parts.append(_node(node, x, y, label_out=(x - middle, y - middle)))
    if centre is not None:
        parts.append(_node(centre, middle, middle, label_out=(0.0, -1.0)))
    return _svg(size, size, "".join(parts), title)


def _node(node: Node, x: float, y: float, *, label_out: tuple[float, float]) -> str:
    dx, dy = label_out
    norm = math.hypot(dx, dy) or 1.0
    lx, ly = x + (node.size + 4) * dx / norm, y + (node.size + 4) * dy / norm
    anchor = "start" if dx > 1 else "end" if dx < -1 else "middle"
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{node.size:.1f}" fill="{node.colour}" '
        f'stroke="#333" stroke-width="0.5"><title>{escape(node.title)}</title></circle>'
        f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="{anchor}">'
        f"{escape(node.label[:22])}</text>"
    )


def share_bar(shares: dict[str, float], title: str) -> str:
    width, height = 720, 76
    parts, x = [f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>'], 0.0
    for number, (name, share) in enumerate(shares.items()):
        w = width * share
        colour = PALETTE[number % len(PALETTE)]
        parts.append(
            f'<rect x="{x:.1f}" y="20" width="{w:.1f}" height="18" fill="{colour}">'
            f"<title>{escape(name)}: {share:.1%}</title></rect>"
        )
        if w > 60:
            parts.append(
                f'<text x="{x + 4:.1f}" y="33" fill="#fff">{escape(name)} {share:.0%}</text>'
            )
        x += w
    legend = "   ".join(f"{name} {share:.1%}" for name, share in shares.items())
    parts.append(f'<text x="0" y="58">{escape(legend)}</text>')
    return _svg(width, height, "".join(parts), title)
