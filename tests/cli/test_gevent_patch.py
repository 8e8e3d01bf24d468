"""Which commands patch the process for gevent: decided from the arguments ``main`` parses."""

from __future__ import annotations

import subprocess
import sys


def patched_after(code: str) -> bool:
    """Run ``code`` in a fresh interpreter (patching cannot be undone) and ask gevent."""
    probe = f"{code}\nfrom gevent import monkey\nprint(monkey.is_module_patched('socket'))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1] == "True"


def prepared(argv: list[str]) -> bool:
    return patched_after(
        f"from surgeproof.cli.gevent_patch import prepare_process\nprepare_process({argv!r})"
    )


def test_commands_that_run_locust_patch_the_process():
    assert prepared(["run", "scenario.yaml", "--workers", "2"])
    assert prepared(["worker", "--master", "127.0.0.1"])
    assert prepared(["demo"])


def test_other_commands_leave_the_process_alone():
    assert not prepared(["analyze", "reports/x"])
    assert not prepared(["report", "reports/run"])  # 'run' as a value, not the command
    assert not prepared(["--version"])
    assert not prepared([])


def test_main_decides_from_the_arguments_it_is_given_not_from_sys_argv():
    called_in_process = (
        "import sys, contextlib\n"
        "sys.argv = ['surgeproof', 'analyze']\n"
        "from surgeproof.cli import main\n"
        "with contextlib.suppress(SystemExit):\n"
        "    main(['run', '--help'])\n"
    )
    assert patched_after(called_in_process)
    console_script = (
        "import sys, contextlib\n"
        "sys.argv = ['surgeproof', 'scenario', 'list']\n"
        "from surgeproof.cli import main\n"
        "main()\n"
    )
    assert not patched_after(console_script)
