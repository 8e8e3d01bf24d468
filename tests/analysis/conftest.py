"""Make the synthetic run generator importable as ``synthetic`` from every analysis test."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
