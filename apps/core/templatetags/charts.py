"""Small inline-SVG charts (no JavaScript, no build step) and display filters."""

import json

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.filter
def pretty_json(value):
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.simple_tag
def score_trend(scores, width=480, height=120):
    """A line of 0–100 scores with a dot per scan; the last value is labelled."""
    scores = [int(s) for s in scores if s is not None]
    if not scores:
        return ""
    pad = 8
    step = (width - 2 * pad) / max(1, len(scores) - 1)
    points = [(pad + i * step, pad + (100 - s) * (height - 2 * pad) / 100) for i, s in enumerate(scores)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="3"><title>{}</title></circle>',
                            ((f"{x:.1f}", f"{y:.1f}", s) for (x, y), s in zip(points, scores, strict=True)))
    last_x, last_y = points[-1]
    cap_y = f"{pad + (100 - 60) * (height - 2 * pad) / 100:.1f}"
    return format_html(
        '<svg class="trend" role="img" aria-label="Score trend: latest {}" viewBox="0 0 {} {}" width="{}" height="{}">'
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="trend-bar"><title>60: a failing blocker caps the score below this'
        '</title></line><polyline fill="none" stroke="currentColor" stroke-width="2" points="{}"/>{}'
        '<text x="{}" y="{}" font-size="12">{}</text></svg>',
        scores[-1], width, height, width, height, pad, width - pad, cap_y, cap_y, line, dots,
        f"{min(last_x + 4, width - 24):.1f}", f"{max(last_y - 6, 12):.1f}", scores[-1],
    )


@register.simple_tag
def sparkline(values, width=120, height=24):
    """A tiny line for latency or uptime series (values of any scale)."""
    values = [float(v) for v in values if v is not None]
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    line = " ".join(f"{i * step:.1f},{height - 2 - (v - low) * (height - 4) / span:.1f}" for i, v in enumerate(values))
    return format_html('<svg class="sparkline" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="trend">'
                       '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
                       width, height, width, height, line)
