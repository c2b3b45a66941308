# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load test's report: a JSON document and a self-contained HTML page with inline SVG charts
(requests/s, latency p50/p90/p99 and the group's instance count over time).

Every plotted series is findable by a program: each <polyline> carries data-series and data-points
(the same [t, value] points as the JSON's `series`), and the whole JSON sits in
<script type="application/json" id="report-data">."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile
from html import escape

SERIES = (
    # name, label, unit, chart, colour
    ("rps", "requests/s", "req/s", "rps", "#ec7211"),
    ("p50_ms", "latency p50", "ms", "latency", "#1f77b4"),
    ("p90_ms", "latency p90", "ms", "latency", "#2ca02c"),
    ("p99_ms", "latency p99", "ms", "latency", "#d62728"),
    ("instances", "instances in the group", "instances", "capacity", "#9467bd"),
)
CHARTS = (
    ("rps", "Requests per second"),
    ("latency", "Latency (ms)"),
    ("capacity", "Auto Scaling group: healthy instances in service"),
)
WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 720, 240, 56, 16, 16, 36


def capacity_points(capacity_timeline, started_epoch=None):
    """[[t, instances]] from [{t, instances}] or capacity_wait's [{t, in_service, healthy, epoch}].

    With an epoch on the entry and the load test's started_epoch, t is re-based on the load test's start."""
    points = []
    for item in capacity_timeline or []:
        if not isinstance(item, dict):
            continue
        value = item.get("instances")
        if value is None:
            value = item.get("healthy", item.get("in_service"))
        if value is None:
            continue
        t = item.get("t", 0)
        if item.get("epoch") is not None and started_epoch is not None:
            t = round(float(item["epoch"]) - float(started_epoch), 3)
        points.append([float(t), int(value)])
    points.sort(key=lambda p: p[0])
    return points


def build_report(result, capacity_timeline=None, title=None):
    """The JSON report: the load test's figures plus `series` (every plotted line's points)."""
    report = dict(result)
    if capacity_timeline is None:
        capacity_timeline = result.get("capacity_timeline") or []
    series = {}
    for name, dummy, dummy2, dummy3, dummy4 in SERIES[:4]:
        series[name] = [[float(b["t"]), b[name]] for b in result.get("timeline") or [] if b.get(name) is not None]
    series["instances"] = capacity_points(capacity_timeline, result.get("started_epoch"))
    report["capacity_timeline"] = list(capacity_timeline)
    report["series"] = series
    report["title"] = title or "Load test of %s" % (result.get("url") or "?")
    return report


def _fmt(value):
    if value == int(value):
        return "%d" % value
    return ("%.3f" % value).rstrip("0").rstrip(".")


def _nice_max(value):
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 < value:
        step *= 10
    for mult in (1, 2, 2.5, 5, 10):
        if step * mult >= value:
            return step * mult
    return step * 10


def _chart(chart, title, series):
    lines = [(name, label, unit, colour, series.get(name) or []) for name, label, unit, c, colour in SERIES if c == chart]
    all_points = [p for line in lines for p in line[4]]
    out = ['<section class="chart"><h2>%s</h2>' % escape(title)]
    if not all_points:
        out.append('<p class="empty" data-chart="%s">No data.</p></section>' % chart)
        return "".join(out)
    x_max = max(max(p[0] for p in all_points), 1.0)
    y_max = _nice_max(max(p[1] for p in all_points) * (1.1 if chart != "capacity" else 1.0))
    if chart == "capacity":
        y_max = max(y_max, max(p[1] for p in all_points) + 1)
    pw, ph = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def sx(x):
        return PAD_L + pw * x / x_max

    def sy(y):
        return PAD_T + ph * (1 - y / y_max)

    out.append('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" data-chart="%s" role="img" '
               'aria-label="%s">' % (WIDTH, HEIGHT, WIDTH, HEIGHT, chart, escape(title)))
    for i in range(5):
        y = y_max * i / 4
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>' % (PAD_L, sy(y), WIDTH - PAD_R, sy(y)))
        out.append('<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>' % (PAD_L - 6, sy(y) + 4, _fmt(round(y, 3))))
    for i in range(6):
        x = x_max * i / 5
        out.append('<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%ss</text>' % (sx(x), HEIGHT - PAD_B + 16, _fmt(round(x, 1))))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>' % (PAD_L, PAD_T, PAD_L, HEIGHT - PAD_B))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>' % (PAD_L, HEIGHT - PAD_B, WIDTH - PAD_R, HEIGHT - PAD_B))
    out.append('<text x="%.1f" y="%d" class="tick" text-anchor="middle">seconds since the load test started</text>'
               % (PAD_L + pw / 2, HEIGHT - 4))
    legend_x = PAD_L + 8
    for name, label, unit, colour, points in lines:
        if not points:
            continue
        if chart == "capacity":
            # a step line: the count holds until the next observation
            coords = []
            for i, (x, y) in enumerate(points):
                if i:
                    coords.append((sx(x), sy(points[i - 1][1])))
                coords.append((sx(x), sy(y)))
        else:
            coords = [(sx(x), sy(y)) for x, y in points]
        if len(coords) == 1:
            coords.append((coords[0][0] + 2, coords[0][1]))
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" data-series="%s" data-unit="%s" data-points="%s" points="%s">'
                   '<title>%s</title></polyline>'
                   % (colour, name, escape(unit), escape(json.dumps(points, separators=(",", ":"))),
                      " ".join("%.1f,%.1f" % c for c in coords), escape(label)))
        for x, y in points:
            out.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s: %s %s at %ss</title></circle>'
                       % (sx(x), sy(y), colour, escape(label), _fmt(y), escape(unit), _fmt(x)))
        out.append('<rect x="%.1f" y="%d" width="10" height="10" fill="%s"/><text x="%.1f" y="%d" class="legend">%s</text>'
                   % (legend_x, PAD_T + 2, colour, legend_x + 14, PAD_T + 11, escape(label)))
        legend_x += 24 + 7 * len(label)
    out.append("</svg></section>")
    return "".join(out)


def _table(title, mapping, key_label, value_label):
    if not mapping:
        return ""
    rows = "".join("<tr><td>%s</td><td>%s</td></tr>" % (escape(str(k)), escape(str(v))) for k, v in sorted(mapping.items()))
    return "<section><h2>%s</h2><table><tr><th>%s</th><th>%s</th></tr>%s</table></section>" % (
        escape(title), escape(key_label), escape(value_label), rows)


def render_html(report):
    """A self-contained page: no external script, style or image."""
    series = report.get("series") or {}
    lat = report.get("latency_ms") or {}
    summary = [
        ("URL", report.get("url")),
        ("requests", report.get("requests")),
        ("errored", report.get("errored")),
        ("elapsed (s)", report.get("elapsed_seconds")),
        ("requests/s", report.get("rps")),
        ("concurrency", report.get("concurrency")),
        ("latency p50 / p90 / p99 (ms)", "%s / %s / %s" % (lat.get("p50"), lat.get("p90"), lat.get("p99"))),
    ]
    rows = "".join("<tr><td>%s</td><td>%s</td></tr>" % (escape(str(k)), escape(str(v))) for k, v in summary)
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>%s</title>' % escape(report.get("title") or "Load test"),
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#16191f}h1{color:#ec7211}"
        "table{border-collapse:collapse;margin-bottom:1em}td,th{padding:.3em 1em .3em 0;text-align:left}"
        ".grid{stroke:#e9ebed}.axis{stroke:#545b64}.tick,.legend{font-size:11px;fill:#545b64}"
        "section{margin-bottom:2em}</style></head><body>",
        "<h1>%s</h1>" % escape(report.get("title") or "Load test"),
        "<table>%s</table>" % rows,
    ]
    for chart, title in CHARTS:
        parts.append(_chart(chart, title, series))
    parts.append(_table("Requests answered per instance", report.get("per_instance"), "instance", "requests"))
    parts.append(_table("Requests answered per availability zone", report.get("per_az"), "availability zone", "requests"))
    parts.append(_table("Errors by kind", report.get("errors"), "kind", "count"))
    press = report.get("load_test_press") or {}
    if press:
        states = dict((i, "loaded" if i in press.get("loaded", []) else "not loaded") for i in press.get("instances", []))
        parts.append(_table("LOAD TEST pressed", states, "instance", "state"))
    # no "<", ">" or "&" inside the script element: nothing in the data can end it or open a comment
    data = json.dumps(report, sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    parts.append('<script type="application/json" id="report-data">%s</script>' % data)
    parts.append("</body></html>\n")
    return "".join(parts)


def _atomic_write(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".report-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def report_paths(report_path):
    """outputs/x, outputs/x.json or outputs/x.html -> (outputs/x.json, outputs/x.html)."""
    base = report_path
    for ext in (".json", ".html", ".htm"):
        if base.lower().endswith(ext):
            base = base[: -len(ext)]
            break
    return base + ".json", base + ".html"


def write_report(report_path, report):
    json_path, html_path = report_paths(report_path)
    _atomic_write(json_path, json.dumps(report, indent=2, sort_keys=True) + "\n")
    _atomic_write(html_path, render_html(report))
    return json_path, html_path


def load_report(path):
    json_path = report_paths(path)[0]
    with open(json_path) as f:
        return json.load(f)
