"""Traces: real traffic curves (CSV exports, access logs) turned into scenarios."""

from surgeproof.scenario.trace.accesslog import read_access_log
from surgeproof.scenario.trace.build import TraceScenario, build_scenario
from surgeproof.scenario.trace.csvtrace import read_csv_trace
from surgeproof.scenario.trace.series import Trace

__all__ = ["Trace", "TraceScenario", "build_scenario", "read_access_log", "read_csv_trace"]
