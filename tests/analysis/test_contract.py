"""The typed contract of analysis.json: written through its records byte for byte, read back
strictly on types and tolerantly of added keys, every fault one line naming the field."""

import copy
import json

import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.contract import (
    ABSENT,
    Analysis,
    ContractError,
    as_analysis,
    read_analysis,
    written,
)
from surgeproof.analysis.contract.levels import Level as LevelRecord
from surgeproof.analysis.locust_csv import analyze_locust_csv
from surgeproof.analysis.run import analyze_run
from surgeproof.errors import UserError
from surgeproof.scenario.model import Slo


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    path = tmp_path_factory.mktemp("contract") / "r"
    queue_run(path, QueueModel(), [Level(40), Level(60), Level(90)], sources=2, user_scale=0.001)
    return analyze_run(path, slos=[Slo("*", "p99", 500.0), Slo("orders", "error_ratio", 0.01)])


def _bytes(d):
    return json.dumps(d, indent=1, allow_nan=False)


def test_the_document_read_and_written_again_is_the_same_bytes(doc):
    assert _bytes(Analysis.from_json(doc, strict=True).to_json()) == _bytes(doc)
    assert _bytes(written(copy.deepcopy(doc))) == _bytes(doc)


def test_the_records_carry_the_documents_values_with_their_types(doc):
    a = as_analysis(doc)
    assert a.verdict.status == doc["verdict"]["status"]
    assert [lv.label for lv in a.levels] == [lv["label"] for lv in doc["levels"]]
    assert isinstance(a.levels[0], LevelRecord)
    assert (
        a.levels[0].groups["*"].latency_ms["p99.9"]
        == doc["levels"][0]["groups"]["*"]["latency_ms"]["p99.9"]
    )
    assert a.ceiling.real.last_pass_users == doc["ceiling"]["real"]["last_pass_users"]
    assert a.user_scale == 0.001 and a.real_unit == "users"


def test_a_renamed_field_fails_the_write_naming_it(doc):
    bad = copy.deepcopy(doc)
    bad["ceiling"]["last_passed"] = bad["ceiling"].pop("last_pass")
    with pytest.raises(ContractError, match=r"^analysis.json: ceiling.last_pass: missing$"):
        written(bad)


def test_a_field_the_contract_does_not_name_fails_the_write_but_not_a_read(doc):
    bad = copy.deepcopy(doc)
    bad["levels"][1]["queue_depth"] = 3
    with pytest.raises(
        ContractError, match=r"levels\[1\].queue_depth: not a field of the contract"
    ):
        written(bad)
    assert as_analysis(bad).levels[1].label == doc["levels"][1]["label"]


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (("verdict", "status"), "maybe", "verdict.status: expected one of 'pass', 'fail', "),
        (("levels", 0, "calls"), True, r"levels\[0\].calls: expected an integer, got a boolean"),
        (("levels", 0, "calls"), 1.5, r"levels\[0\].calls: expected an integer, got a number"),
        (("levels", 2, "achieved_rps"), "fast", r"levels\[2\].achieved_rps: expected a number"),
        (("ceiling", "real"), [], "ceiling.real: expected an object, got a list"),
        (("scale", "user_scale"), float("nan"), "scale.user_scale: expected a finite number"),
        (("data_quality", "caveats"), ["ok", 3], r"data_quality.caveats\[1\]: expected a string"),
        (("overall", "groups", "*", "errors", "timeout"), None, "errors.timeout: expected an int"),
        (("timeseries", "ok_rps"), [1.0, None, "x"], r"timeseries.ok_rps\[2\]: expected a number"),
        (("timeseries", "breach"), [False, 0], r"timeseries.breach\[1\]: expected true or false"),
        (("timeseries", "window_s"), 0, r"timeseries.window_s: expected a positive number, got 0"),
    ],
)
def test_a_wrong_type_is_one_line_naming_the_field(doc, where, value, message):
    bad = copy.deepcopy(doc)
    node = bad
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(ContractError, match=message) as err:
        as_analysis(bad, "run/analysis.json")
    assert str(err.value).startswith("run/analysis.json: ") and "\n" not in str(err.value)
    assert isinstance(err.value, UserError)


def test_documented_additive_fields_may_be_absent_and_are_not_written_then(doc):
    old = copy.deepcopy(doc)
    del old["input"]["probing"], old["data_quality"]["refused_messages"], old["requirements"]
    a = as_analysis(old)
    assert a.input.probing is ABSENT and not a.input.probing
    assert a.requirements is ABSENT
    again = a.to_json()
    assert "probing" not in again["input"] and "requirements" not in again


def test_a_locust_csv_analysis_is_written_through_the_same_records(tmp_path):
    prefix = tmp_path / "plain"
    header = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,"
    header += "99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median "
    header += "Response Time,Total Average Response Time,Total Min Response Time,Total Max "
    header += "Response Time,Total Average Content Size\n"
    rows = [
        f"{1_700_000_000 + t},{10 * (1 + t // 10)},,Aggregated,50,0,20,22,24,25,30,35,40,45,50,"
        f"55,60,{50 * (t + 1)},0,20,21,5,60,100\n"
        for t in range(40)
    ]
    (tmp_path / "plain_stats_history.csv").write_text(header + "".join(rows))
    doc = analyze_locust_csv(str(prefix))
    a = as_analysis(doc)
    assert a.input.kind == "locust_csv" and a.overall.endpoints is ABSENT
    assert a.data_quality.precision == "reduced"
    assert _bytes(a.to_json()) == _bytes(doc)


def test_a_file_nested_past_the_stack_is_one_line(tmp_path):
    (tmp_path / "analysis.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ContractError, match=r"analysis\.json: not valid JSON") as err:
        read_analysis(tmp_path)
    assert "\n" not in str(err.value)


def test_a_file_over_the_bound_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    import surgeproof.analysis.contract.reading as reading

    monkeypatch.setattr(reading, "MAX_ANALYSIS_BYTES", 1000)
    (tmp_path / "analysis.json").write_text(" " * 1001)
    with pytest.raises(UserError, match=r"analysis\.json"):
        read_analysis(tmp_path)


def test_a_crafted_key_is_shown_on_one_line_in_the_error(doc):
    bad = copy.deepcopy(doc)
    bad["overall"]["groups"]["evil\n\x1b[31mgroup"] = {"count": "many"}
    with pytest.raises(ContractError) as err:
        as_analysis(bad)
    message = str(err.value)
    assert "\n" not in message and "\x1b" not in message
    assert "overall.groups.'evil\\n\\x1b[31mgroup'" in message
