"""Unit positions per second accepted and stored, and the lag to the live stream.

    python bench/ingest.py [--units N] [--seconds S] [--batch B] [--database-url URL] [--json]

is the same as ``jingwu bench ingest``; the benchmark lives in ``jingwu.bench.ingest``.
"""

from __future__ import annotations

import sys

from jingwu.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "ingest", *sys.argv[1:]]))
