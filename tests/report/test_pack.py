"""An evidence pack's pack.json and INDEX.md carry the run's verdict as the analysis states it."""

import json
import tarfile

from surgeproof.analysis.answer import headline
from surgeproof.analysis.freshness import current_analysis
from surgeproof.cli import main


def test_the_pack_index_states_the_verdict_and_the_bracket_of_the_analysis(step_run, tmp_path):
    out = tmp_path / "steps.tar.gz"
    assert main(["evidence", str(step_run), "--out", str(out)]) == 0
    analysis = current_analysis(step_run)
    with tarfile.open(out) as tar:
        names = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
        pack = json.load(tar.extractfile(names["pack.json"]))
        index = tar.extractfile(names["INDEX.md"]).read().decode()
    said = headline(analysis)
    assert said.startswith(("PASS: ", "FAIL: ", "INCONCLUSIVE: ")) and "ceiling" in said
    assert pack["headline"] == {"verdict": said, "ceiling": analysis["ceiling"]}
    assert f"**Verdict (from run/analysis.json):** {said}" in index
