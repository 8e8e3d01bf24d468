"""The Grafana dashboard, its provisioning and the scrape configs name what the endpoints export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import yaml
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from surgeproof.exchange.config import build_config
from surgeproof.exchange.prometheus import ExchangeCollector
from surgeproof.exchange.state import ExchangeState
from surgeproof.load.live_metrics import DEFAULT_PORT, TARGET_PATH, LiveTally
from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome
from surgeproof.scenario.model import Slo

LOADTESTS = Path(__file__).resolve().parents[2] / "loadtests"
DASHBOARD = LOADTESTS / "grafana" / "surgeproof-dashboard.json"
#: PromQL words that look like metric names but are functions, keywords or label names.
NOT_METRICS = {
    "sum", "max", "min", "by", "rate", "increase", "histogram_quantile", "clamp_min", "unless",
    "offset", "and", "or", "on", "le", "group", "outcome", "percentile", "phase", "type", "job",
    "family", "pool", "gateway", "source", "index", "changes",
}  # fmt: skip


def exported() -> dict[str, set[str]]:
    """Every family and sample name both endpoints export, with the label names it carries."""
    tally = LiveTally([Slo("quotation", "p99", 500.0), Slo("*", "error_ratio", 0.01)])
    rec = np.zeros(2, dtype=RECORD_DTYPE)
    rec["intended_ns"], rec["sent_ns"], rec["end_ns"] = 1, 1, 5_000_000
    rec["kind"] = [Kind.HTTP, Kind.WS_CONNECT]
    rec["outcome"] = Outcome.OK
    rec["attempt"] = [0, 1]
    tally.on_batch("worker-a", rec.tobytes(), {0: ("GET /v1/ticker", "quotation")}, {"t_ns": 1})
    tally.on_event({"t_ns": 1, "type": "phase", "name": "shock", "index": 0})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(tally)
    ProcessCollector(registry=registry)
    exchange = CollectorRegistry(auto_describe=False)
    exchange.register(ExchangeCollector(ExchangeState(build_config({"accounts": 1}))))
    names: dict[str, set[str]] = {}
    for reg in (registry, exchange):
        for family in text_string_to_metric_families(generate_latest(reg).decode()):
            names.setdefault(family.name, set())
            if family.type == "counter":  # its samples' name, even before it has any
                names.setdefault(family.name + "_total", set())
            for s in family.samples:
                names.setdefault(s.name, set()).update(s.labels)
                names[family.name].update(s.labels)
    # Gateways exist only with ws_gateways > 0 (processes): their label as the module declares it.
    for name in ("up", "connections", "restarts_total"):
        names[f"surgeproof_exchange_gateway_{name}"].add("gateway")
    return names


def queries(dashboard: dict) -> list[tuple[str, str]]:
    """(expr, legendFormat or titleFormat) of every panel target and annotation."""
    out = []
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            out.append((t["expr"], t.get("legendFormat", "")))
    for a in dashboard["annotations"]["list"]:
        if "expr" in a:
            out.append((a["expr"], a.get("titleFormat", "")))
    return out


def metric_names(expr: str) -> set[str]:
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", re.sub(r'"[^"]*"', "", expr)))
    return {w for w in words if w not in NOT_METRICS and not w.startswith("__")} - {"s", "m"}


def test_every_query_names_metrics_the_endpoints_export():
    dashboard = json.loads(DASHBOARD.read_text())
    names = exported()
    qs = queries(dashboard)
    assert len(qs) >= 30
    used = set()
    for expr, legend in qs:
        metrics = metric_names(expr.replace("$__rate_interval", "").replace("$job", ""))
        missing = metrics - names.keys()
        assert not missing, (expr, missing)
        used |= metrics
        # Every {{label}} of the legend is a label the named metrics carry.
        labels = set().union(*(names[m] for m in metrics))
        for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
            assert label in labels, (expr, label)
    # The dashboard shows the surge and the target: both endpoints are on it.
    assert any(m.startswith("surgeproof_exchange_") for m in used)
    for needed in (
        "surgeproof_requests_offered_total",
        "surgeproof_requests_answered_total",
        "surgeproof_request_latency_seconds_bucket",
        "surgeproof_slo_latency_seconds",
        "surgeproof_ws_sessions",
        "surgeproof_phase_start_timestamp_seconds",
    ):
        assert needed in used, needed


def test_panels_are_placed_and_use_the_datasource_variable():
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "job", "target_job"} <= variables
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24 and pos["h"] > 0, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["targets"], panel["title"]
    phases = [a for a in dashboard["annotations"]["list"] if a.get("name") == "Phases"]
    assert phases and phases[0]["useValueForTime"]


def test_provisioning_and_scrape_configs_point_at_the_dashboard_and_the_port():
    provider = yaml.safe_load(
        (LOADTESTS / "grafana" / "provisioning" / "dashboards" / "surgeproof.yaml").read_text()
    )
    assert provider["apiVersion"] == 1
    [p] = provider["providers"]
    assert p["type"] == "file" and p["options"]["path"]
    sources = yaml.safe_load(
        (LOADTESTS / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )
    assert sources["datasources"][0]["type"] == "prometheus"
    prom = yaml.safe_load((LOADTESTS / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert jobs["surgeproof"]["static_configs"][0]["targets"] == [f"127.0.0.1:{DEFAULT_PORT}"]
    assert jobs["surgeproof-target"]["metrics_path"] == TARGET_PATH


def test_the_kubernetes_master_serves_metrics_where_its_annotations_say():
    docs = list(yaml.safe_load_all((LOADTESTS / "k8s" / "master-job.yaml").read_text()))
    [job] = [d for d in docs if d and d["kind"] == "Job"]
    pod = job["spec"]["template"]
    notes = pod["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    [container] = pod["spec"]["containers"]
    args = container["args"]
    port = args[args.index("--metrics-port") + 1]
    assert notes["prometheus.io/port"] == port == str(DEFAULT_PORT)
    assert args[args.index("--metrics-host") + 1] == "0.0.0.0"  # scraped from other pods
    assert {"name": "metrics", "containerPort": DEFAULT_PORT} in container["ports"]
    service = yaml.safe_load((LOADTESTS / "k8s" / "master-service.yaml").read_text())
    assert any(p["port"] == DEFAULT_PORT for p in service["spec"]["ports"])
