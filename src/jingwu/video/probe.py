"""``python -m jingwu.video.probe``: look at a stream in a process of its own, so that FFmpeg
hanging or crashing on a strange camera never touches the API. The URL (with its credentials)
comes on standard input, never on the command line, where other users of the host could read it;
one JSON line goes out."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict

from jingwu.video.source import ProbeResult, StreamFault, probe


def main() -> int:
    request = json.loads(sys.stdin.read())
    try:
        found = probe(request["url"], timeout_s=float(request.get("timeout_s", 8.0)))
    except StreamFault as fault:
        print(json.dumps({"ok": False, **fault.to_dict()}))
        return 0
    print(json.dumps({"ok": True, **asdict(found)}))
    return 0


def probe_in_subprocess(url: str, *, timeout_s: float = 8.0) -> ProbeResult:
    """:func:`probe` in a child process, bounded in time; a :class:`StreamFault` as the child
    found it, or one that says the look itself failed."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "jingwu.video.probe"],
            input=json.dumps({"url": url, "timeout_s": timeout_s}),
            capture_output=True,
            text=True,
            timeout=timeout_s * 2 + 10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise StreamFault(
            "stream_unreachable", "the stream did not answer in time (probe timed out)"
        ) from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise StreamFault("stream_invalid", f"the stream could not be read (probe exited {done.returncode})")
    answer = json.loads(lines[-1])
    if not answer.pop("ok"):
        raise StreamFault(answer["code"], answer["message"], **answer.get("params", {}))
    return ProbeResult(**answer)


if __name__ == "__main__":
    raise SystemExit(main())
