"""INDEX.md of an evidence pack: what every file is, and how to check it with or without surgeproof.

Written for an auditor who opens the pack years later, perhaps without this tool at hand.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from surgeproof.report.manifest import MANIFEST, MANIFEST_CHECKSUM, MANIFEST_SIGNATURE
from surgeproof.report.markdown import md_code, md_text

#: What each file of a pack is, first match wins (fnmatch patterns on POSIX paths).
FILE_ROLES: tuple[tuple[str, str], ...] = (
    ("INDEX.md", "this file: what every file is and how to verify the pack"),
    (MANIFEST, "SHA-256 of every file in the pack (coreutils `sha256sum` format)"),
    (MANIFEST_CHECKSUM, f"SHA-256 of {MANIFEST} itself: the fingerprint of the whole pack"),
    (MANIFEST_SIGNATURE, f"Ed25519 signature (64 raw bytes) over {MANIFEST}'s exact bytes"),
    ("pack.json", "pack metadata: who made it, when, with which tool version; headline numbers"),
    ("environment.json", "the machine and software versions that built this pack"),
    ("formats/*", "the file-format specifications the raw data and analysis follow"),
    ("run/run.json", "run metadata: times (UTC, KST), scale factors, target, versions, host"),
    ("run/scenario.yaml", "the surge scenario file exactly as run"),
    ("run/profile.yaml", "the capacity profile (published reference figures) as run"),
    ("run/records/*.bin", "raw records: one fixed-width 40-byte record per intended request"),
    ("run/records/*.names.jsonl", "what each record's name_id means for that source"),
    ("run/events.jsonl", "run events: phases, steady-state windows, worker loss, aborts"),
    ("run/timeline.jsonl", "per-second generator samples: offered/active users, generator CPU"),
    ("run/server/metrics.jsonl", "the embedded exchange's own per-second metrics"),
    ("run/server/ledger.json", "the embedded exchange's order ledger reconciliation"),
    ("run/locust/*", "Locust's own log (and, in older runs, its CSV statistics)"),
    ("run/analysis.json", "the analysis of the raw data: verdict, ceiling bracket, headroom"),
    ("run/report.html", "the human report (self-contained; opens offline in any browser)"),
    ("run/report.md", "the same report as Markdown"),
    ("run/gate/*", "CI gate results produced from this run (JUnit XML, Markdown summary)"),
    ("run/*", "other files of the run directory, as they were"),
)


def role_of(path: str) -> str:
    """What the file at ``path`` (inside a pack) is, in one line."""
    for pattern, role in FILE_ROLES:
        if fnmatch.fnmatchcase(path, pattern):
            return role
    return "file of the pack"


def _signature_lines(pack: dict[str, Any]) -> list[str]:
    """How to check the manifest's signature by hand, when the pack was signed."""
    sig = pack.get("signature")
    if not isinstance(sig, dict):
        return []
    return [
        f"The manifest is signed (Ed25519; public key SHA-256 `{sig.get('public_key_sha256')}`). "
        "With the signer's public key, obtained from the signer and not from this pack, "
        "OpenSSL 3 checks it:",
        "",
        "```",
        f"openssl pkeyutl -verify -pubin -inkey signer.pub -rawin -in {MANIFEST} "
        f"-sigfile {MANIFEST_SIGNATURE}",
        "```",
        "",
    ]


def render_index(pack: dict[str, Any], files: list[str]) -> str:
    """The INDEX.md text for a pack with metadata ``pack`` holding ``files`` (relative paths)."""
    tool = pack["made_by"]
    head = pack.get("headline", {})
    lines = [
        f"# Capacity evidence pack: {md_text(pack['run_id'])}",
        "",
        f"Made {pack['created_at_utc']} ({pack['created_at_kst']}) by surgeproof "
        f"{tool['surgeproof']} (Python {tool['python']}). The run itself was made by surgeproof "
        f"{md_text(pack.get('run_made_by') or 'unknown')}.",
        "",
    ]
    if head.get("verdict"):
        lines += [f"**Verdict (from run/analysis.json):** {md_text(head['verdict'])}", ""]
    lines += [
        "## Files",
        "",
        "| file | what it is |",
        "|---|---|",
        *(f"| {md_code(p, cell=True)} | {role_of(p)} |" for p in files),
        "",
        "## Verify by hand (no surgeproof needed)",
        "",
        "From the directory this INDEX.md is in, with GNU coreutils:",
        "",
        "```",
        f"sha256sum -c {MANIFEST_CHECKSUM}   # the manifest is intact",
        f"sha256sum -c {MANIFEST}            # every file the manifest lists is intact",
        "```",
        "",
        "Both must print `OK` on every line. Record the one hash in "
        f"`{MANIFEST_CHECKSUM}` somewhere the pack's producer cannot change (the audit file, a "
        "signed letter): with it, no file of this pack can be changed without detection, because "
        "changing a file changes the manifest, and changing the manifest changes that hash.",
        "",
        *_signature_lines(pack),
        "The raw records are plain little-endian binary described in "
        "`formats/rundir-FORMAT.md`; any language can read them and recompute the figures.",
        "",
        "## Verify with surgeproof",
        "",
        "```",
        f"pip install 'surgeproof=={tool['surgeproof']}'",
        "surgeproof verify <this pack's .tar.gz, or this directory>"
        + (" --key <the signer's public key>" if pack.get("signature") else ""),
        "```",
        "",
        "It checks every hash above, re-runs the analysis on the raw records in `run/` (offline: "
        "no network, no load generator) and confirms the verdict and the key numbers in "
        "`run/analysis.json` are what the raw data give. It names each altered or missing file "
        "and each number that differs; exit status 0 means the pack verified.",
        "",
    ]
    return "\n".join(lines)
