"""Draw surgeproof-dashboard.json from a Prometheus, without Grafana: every panel's own PromQL,
evaluated by Prometheus's HTTP API over a time range, laid out on the dashboard's grid with
matplotlib (SLO series dashed, phase and fault annotations as vertical lines).

This is how the README's picture of the live dashboard was made where Grafana could not be
installed; it shows exactly what the queries return, not Grafana's styling.

    python loadtests/grafana/render_dashboard.py --prometheus http://127.0.0.1:9090 \\
        --start 1733230800 --end 1733231000 --out dashboard.png
"""

from __future__ import annotations

import argparse
import json
import re
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent
UNITS = {  # Grafana unit -> (factor, axis label)
    "s": (1000.0, "ms"),
    "percentunit": (100.0, "%"),
    "percent": (1.0, "%"),
    "reqps": (1.0, "req/s"),
    "short": (1.0, ""),
}


class Prometheus:
    def __init__(self, url: str, variables: dict[str, str]) -> None:
        self.url = url.rstrip("/")
        self.variables = variables

    def expand(self, expr: str) -> str:
        for name, value in self.variables.items():
            expr = expr.replace(f"${name}", value)
        return expr

    def get(self, path: str, **params) -> list[dict]:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as r:
            body = json.loads(r.read())
        if body.get("status") != "success":
            raise RuntimeError(f"{params.get('query')}: {body}")
        return body["data"]["result"]

    def range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        return self.get(
            "/api/v1/query_range", query=self.expand(expr), start=start, end=end, step=step
        )

    def instant(self, expr: str, at: float) -> list[dict]:
        return self.get("/api/v1/query", query=self.expand(expr), time=at)


def legend(fmt: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt) or str(labels)


def annotations(prom: Prometheus, dashboard: dict, start: float, end: float):
    """(time, title, colour) of every annotation the dashboard's queries give in the range."""
    out = []
    for a in dashboard["annotations"]["list"]:
        if "expr" not in a:
            continue
        step = float(a.get("step", "10s").rstrip("s"))
        seen = set()
        for series in prom.range(a["expr"], start, end, step):
            title = legend(a.get("titleFormat", ""), series["metric"])
            for t, v in series["values"]:
                when = float(v) / 1000.0 if a.get("useValueForTime") else float(t)
                if (title, round(when)) not in seen:
                    seen.add((title, round(when)))
                    out.append((when, title, a.get("iconColor", "grey")))
    return out


def draw(prom: Prometheus, dashboard: dict, start: float, end: float, step: float, out: Path):
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    unit_h = 0.32  # inches per grid row
    fig = plt.figure(figsize=(16, rows * unit_h))
    marks = annotations(prom, dashboard, start, end)
    pad = 0.6 / rows

    def box(pos):
        x, y, w, h = pos["x"] / 24, pos["y"] / rows, pos["w"] / 24, pos["h"] / rows
        return [x + 0.045, 1 - y - h + pad * 1.6, w - 0.06, h - pad * 3.2]

    first_series = next(p["id"] for p in panels if p["type"] == "timeseries")
    for p in panels:
        pos = p["gridPos"]
        if p["type"] == "row":
            fig.text(0.01, 1 - pos["y"] / rows - 0.6 / rows, p["title"], fontsize=13, weight="bold")
            continue
        ax = fig.add_axes(box(pos))
        ax.set_title(p["title"], fontsize=10, loc="left")
        if p["type"] == "stat":
            ax.axis("off")
            result = prom.instant(p["targets"][0]["expr"], end)
            unit = p["fieldConfig"]["defaults"].get("unit", "short")
            text = "–"
            if result:
                if p["options"].get("textMode") == "name":
                    text = legend(p["targets"][0]["legendFormat"], result[0]["metric"])
                else:
                    factor, label = UNITS.get(unit, (1.0, ""))
                    text = f"{float(result[0]['value'][1]) * factor:,.3g}{label}"
            ax.text(0.5, 0.3, text, ha="center", va="center", fontsize=18)
            continue
        unit = p["fieldConfig"]["defaults"].get("unit", "short")
        factor, label = UNITS.get(unit, (1.0, unit))
        dashed = [
            o["matcher"]["options"]
            for o in p["fieldConfig"].get("overrides", [])
            if o["matcher"]["id"] == "byRegexp"
        ]
        for t in p["targets"]:
            for series in prom.range(t["expr"], start, end, step):
                name = legend(t["legendFormat"], series["metric"])
                xs = [datetime.fromtimestamp(float(ts)) for ts, _ in series["values"]]
                ys = [float(v) * factor for _, v in series["values"]]
                slo = any(re.fullmatch(rx, name) for rx in dashed)
                ax.plot(xs, ys, "--" if slo else "-", lw=1.2 if slo else 1.6, label=name,
                        color="red" if slo else None)  # fmt: skip
        for when, title, colour in marks:
            ax.axvline(datetime.fromtimestamp(when), color=colour, lw=0.8, alpha=0.7)
            if p["id"] == first_series or colour == "#F2495C":  # phase names once, faults always
                ax.text(datetime.fromtimestamp(when), 1.0, " " + title, rotation=90,
                        transform=ax.get_xaxis_transform(), fontsize=6, va="top")  # fmt: skip
        ax.set_xlim(datetime.fromtimestamp(start), datetime.fromtimestamp(end))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
        ax.tick_params(labelsize=7)
        ax.set_ylabel(label, fontsize=7)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=6, loc="upper right", ncol=2, framealpha=0.6)
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, dpi=72)
    # 128 colours are plenty for line charts and keep the picture small enough to commit.
    image = Image.open(buf).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    image.save(out, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prometheus", default="http://127.0.0.1:9090")
    ap.add_argument("--dashboard", default=str(HERE / "surgeproof-dashboard.json"))
    ap.add_argument("--start", type=float, required=True, help="unix seconds")
    ap.add_argument("--end", type=float, required=True, help="unix seconds")
    ap.add_argument("--step", type=float, default=2.0, help="seconds between points")
    ap.add_argument("--rate-interval", default="10s", help="what $__rate_interval stands for")
    ap.add_argument("--job", default="surgeproof")
    ap.add_argument("--target-job", default="surgeproof-target")
    ap.add_argument("--out", default="dashboard.png")
    args = ap.parse_args()
    dashboard = json.loads(Path(args.dashboard).read_text())
    prom = Prometheus(
        args.prometheus,
        # longest names first: $target_job before $job
        {"__rate_interval": args.rate_interval, "target_job": args.target_job, "job": args.job},
    )
    draw(prom, dashboard, args.start, args.end, args.step, Path(args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
