"""Small files in data.police.uk's street-level crime format, written by the tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

HEADER = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]


@dataclass(frozen=True)
class Crime:
    month: str
    crime_type: str
    lon: float | None = -1.9
    lat: float | None = 52.48
    outcome: str = "Under investigation"
    crime_id: str = "x"
    lsoa: str = "Birmingham 050A"


def write_street_csv(path: Path, crimes: list[Crime], *, header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i, c in enumerate(crimes):
            row = {
                "Crime ID": ""
                if c.crime_type == "Anti-social behaviour"
                else f"{c.crime_id}{c.month}-{i:06d}",
                "Month": c.month,
                "Reported by": "West Midlands Police",
                "Falls within": "West Midlands Police",
                "Longitude": "" if c.lon is None else f"{c.lon:.6f}",
                "Latitude": "" if c.lat is None else f"{c.lat:.6f}",
                "Location": "On or near Test Street" if c.lat is not None else "No Location",
                "LSOA code": "E01009999",
                "LSOA name": c.lsoa,
                "Crime type": c.crime_type,
                "Last outcome category": "" if c.crime_type == "Anti-social behaviour" else c.outcome,
                "Context": "",
            }
            writer.writerow([row.get(h, "") for h in header])
    return path
