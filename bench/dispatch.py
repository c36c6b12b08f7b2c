"""Recommendation latency on the Harbin graph against a full-Dijkstra baseline.

    python bench/dispatch.py [--units N]... [--queries Q] [--json]

is the same as ``jingwu bench dispatch``; the benchmark itself lives in ``jingwu.bench.dispatch``
so that it ships with the package.
"""

from __future__ import annotations

import sys

from jingwu.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "dispatch", *sys.argv[1:]]))
