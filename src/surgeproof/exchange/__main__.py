"""``python -m surgeproof.exchange``: the same as ``surgeproof exchange``."""

import argparse
import sys

from surgeproof.exchange.main import HELP, add_arguments, run

parser = argparse.ArgumentParser(prog="python -m surgeproof.exchange", description=HELP)
add_arguments(parser)
sys.exit(run(parser.parse_args()))
