"""The Kubernetes manifests feed the master and every worker the same fleet key from one Secret,
made from a file that never enters the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

K8S = Path(__file__).resolve().parents[2] / "loadtests" / "k8s"
SECRET = "surgeproof-fleet-key"


def _pod(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text())["spec"]["template"]["spec"]


def _key_path(pod: dict) -> str:
    [container] = pod["containers"]
    args = [str(a) for a in container["args"]]
    path = args[args.index("--fleet-key-file") + 1]
    [volume] = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == SECRET]
    [mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert path == f"{mount['mountPath']}/fleet.key" and mount["readOnly"]
    assert volume["secret"]["defaultMode"] & 0o007 == 0  # never readable by other users
    # The image runs as 10001: fsGroup makes the group-readable key its own to read.
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"] == 10001
    return path


def test_master_and_workers_read_the_same_key_from_one_secret():
    assert _key_path(_pod("master-job.yaml")) == _key_path(_pod("workers-deployment.yaml"))
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    [generator] = kustomization["secretGenerator"]
    assert generator == {"name": SECRET, "files": ["fleet.key"]}


def test_the_key_file_is_ignored_by_git_and_no_manifest_holds_a_key():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(K8S / "fleet.key")], cwd=K8S, capture_output=True
    )
    assert ignored.returncode == 0
    for path in K8S.iterdir():
        if path.suffix == ".yaml":
            assert "SURGEPROOF_FLEET_KEY" not in path.read_text(), path
