"""The analytic record: one incident, call or crime as the analyses see it, whatever its source.

Times are local wall-clock times of the force that recorded them (CompStat's periods are local
days and months). A police.uk record only knows its month: its mapping's ``time_precision``
says so, and the periods it can answer follow. Coordinates are WGS-84 and may be missing."""

from __future__ import annotations

import pyarrow as pa

RECORD_SCHEMA = pa.schema(
    [
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("record_id", pa.string()),
        pa.field("category", pa.string(), nullable=False),
        pa.field("group", pa.string()),
        pa.field("occurred_at", pa.timestamp("s"), nullable=False),
        pa.field("time_precision", pa.string(), nullable=False),  # month, day, minute or second
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("district", pa.string()),
        pa.field("station", pa.string()),
        pa.field("area", pa.string()),
        pa.field("priority", pa.string()),
        pa.field("outcome", pa.string()),
        pa.field("filed_at", pa.timestamp("s")),  # a case filed for it (立案), when known
        pa.field("solved", pa.bool_()),
        pa.field("solved_at", pa.timestamp("s")),  # when known; else a solved record counts by occurred_at
        pa.field("self_initiated", pa.bool_()),
        pa.field("urban", pa.bool_()),  # in an urban area (the 5-minute arrival target's scope)
        pa.field("call_at", pa.timestamp("s")),
        pa.field("dispatch_at", pa.timestamp("s")),
        pa.field("arrive_at", pa.timestamp("s")),
        pa.field("closed_at", pa.timestamp("s")),
        pa.field("source_file", pa.string()),
        pa.field("source_line", pa.int64()),
    ]
)

__all__ = ["RECORD_SCHEMA"]
