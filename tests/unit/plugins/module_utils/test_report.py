import json
from html.parser import HTMLParser

from ansible_collections.immersionday.ha_web.plugins.module_utils import report

RESULT = {
    "url": "http://lb/",
    "requests": 30,
    "errored": 1,
    "errors": {"timeout": 1},
    "rps": 10.0,
    "elapsed_seconds": 3.0,
    "latency_ms": {"p50": 5.0, "p90": 9.0, "p99": 12.0},
    "per_instance": {"i-a": 15, "i-b": 14},
    "per_az": {"az-a": 15, "az-c": 14},
    "started_epoch": 1000.0,
    "timeline": [
        {"t": 0, "requests": 10, "errors": 0, "rps": 10.0, "p50_ms": 5.0, "p90_ms": 9.0, "p99_ms": 12.0},
        {"t": 1, "requests": 0, "errors": 0, "rps": 0.0, "p50_ms": None, "p90_ms": None, "p99_ms": None},
        {"t": 2, "requests": 20, "errors": 1, "rps": 20.0, "p50_ms": 4.0, "p90_ms": 8.0, "p99_ms": 11.5},
    ],
}


class Page(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.series, self.charts, self.data, self._in, self.external = {}, [], "", False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "polyline":
            self.series[a["data-series"]] = json.loads(a["data-points"])
        if tag == "svg":
            self.charts.append(a["data-chart"])
        if tag == "script":
            self._in = a.get("id") == "report-data"
            if "src" in a:
                self.external.append(a["src"])
        if tag in ("link", "img"):
            self.external.append(a)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.data += data


def test_capacity_points():
    assert report.capacity_points([{"t": 5, "instances": 4}, {"t": 0, "instances": 2}]) == [[0.0, 2], [5.0, 4]]
    wait = [{"t": 0.0, "epoch": 1010.0, "in_service": 3, "healthy": 2}, {"t": 4.0, "epoch": 1014.0, "in_service": 4, "healthy": 4}]
    assert report.capacity_points(wait, started_epoch=1000.0) == [[10.0, 2], [14.0, 4]]
    assert report.capacity_points(wait) == [[0.0, 2], [4.0, 4]]
    assert report.capacity_points([{"t": 1}, "x"]) == []


def test_build_report_series():
    rep = report.build_report(RESULT, [{"t": 0, "instances": 2}, {"t": 2, "instances": 3}])
    assert rep["series"] == {
        "rps": [[0.0, 10.0], [1.0, 0.0], [2.0, 20.0]],
        "p50_ms": [[0.0, 5.0], [2.0, 4.0]],
        "p90_ms": [[0.0, 9.0], [2.0, 8.0]],
        "p99_ms": [[0.0, 12.0], [2.0, 11.5]],
        "instances": [[0.0, 2], [2.0, 3]],
    }
    assert rep["title"] == "Load test of http://lb/"
    assert rep["requests"] == 30
    # from the JSON itself when no option is given
    again = report.build_report(json.loads(json.dumps(rep)))
    assert again["series"] == rep["series"]


def test_render_html_holds_each_series_and_the_json():
    rep = report.build_report(RESULT, [{"t": 0, "instances": 2}, {"t": 2, "instances": 4}])
    page = Page()
    page.feed(report.render_html(rep))
    assert page.charts == ["rps", "latency", "capacity"]
    assert page.series == rep["series"]
    assert json.loads(page.data) == rep
    assert page.external == []


def test_render_html_without_capacity_and_escaping():
    result = dict(RESULT, url="http://lb/<script>alert(1)</script>", per_instance={"i-<b>": 1})
    html = report.render_html(report.build_report(result))
    assert "<script>alert" not in html
    assert "i-&lt;b&gt;" in html
    assert '<p class="empty" data-chart="capacity">No data.</p>' in html
    page = Page()
    page.feed(html)
    assert sorted(page.series) == ["p50_ms", "p90_ms", "p99_ms", "rps"]
    assert json.loads(page.data)["url"] == result["url"]


def test_report_paths():
    assert report.report_paths("out/x") == ("out/x.json", "out/x.html")
    assert report.report_paths("out/x.json") == ("out/x.json", "out/x.html")
    assert report.report_paths("out/x.HTML") == ("out/x.json", "out/x.html")


def test_write_and_load(tmp_path):
    rep = report.build_report(RESULT)
    j, h = report.write_report(str(tmp_path / "sub" / "r.html"), rep)
    assert j == str(tmp_path / "sub" / "r.json") and h == str(tmp_path / "sub" / "r.html")
    assert report.load_report(h) == json.loads(json.dumps(rep))
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["r.html", "r.json"]
