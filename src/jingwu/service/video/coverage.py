"""Coverage and blind spots (安全死角) for an area of the city: which streets the registered fixed
cameras see, the uncovered stretches weighted by where incidents happened, and where new cameras
would cover the most (jingwu.video.coverage does the geometry; this reads what it needs)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from jingwu.domain.cameras import Camera
from jingwu.domain.geo import GeoPoint
from jingwu.errors import ValidationFailed
from jingwu.geocode.buildings import Buildings
from jingwu.routing import RoadNetwork
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from jingwu.video.coverage import (
    Request,
    Streets,
    blind_spots,
    blind_spots_geojson,
    street_coverage,
    suggest_cameras,
    suggestions_geojson,
)

MAX_SIDE_M = 8_000.0  # an area larger than this is refused: ask district by district
DEFAULT_MARGIN_M = 300.0
HISTORY_DAYS = 365


@dataclass(frozen=True, slots=True)
class Box:
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> Box:
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError:
            raise ValidationFailed("bbox is west,south,east,north in degrees", code="bad_bbox") from None
        box = cls(west, south, east, north)
        GeoPoint(south, west), GeoPoint(north, east)  # each corner in range (422 if not)
        if not (west < east and south < north):
            raise ValidationFailed("bbox must run west < east and south < north", code="bad_bbox")
        if box.width_m > MAX_SIDE_M or box.height_m > MAX_SIDE_M:
            raise ValidationFailed(
                f"an area is at most {MAX_SIDE_M / 1000:.0f} km a side: ask for a district at a time",
                code="bbox_too_large",
            )
        return box

    @property
    def width_m(self) -> float:
        return (self.east - self.west) * 111_320 * math.cos(math.radians((self.north + self.south) / 2))

    @property
    def height_m(self) -> float:
        return (self.north - self.south) * 110_574

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.west, self.south, self.east, self.north


def around(cameras: Sequence[Camera], margin_m: float = DEFAULT_MARGIN_M) -> Box:
    """The box of the fixed cameras given, widened by ``margin_m``: the default area."""
    points = [c.position for c in cameras if c.position is not None]
    if not points:
        raise ValidationFailed("no fixed cameras here yet: give the area as bbox", code="bbox_needed")
    lat = [p.lat for p in points]
    lon = [p.lon for p in points]
    dlat = margin_m / 110_574
    dlon = margin_m / (111_320 * math.cos(math.radians(sum(lat) / len(lat))))
    box = Box(min(lon) - dlon, min(lat) - dlat, max(lon) + dlon, max(lat) + dlat)
    return Box.parse(",".join(str(v) for v in box.as_tuple()))


def parse_request(text: str) -> Request:
    """``lat,lon[,weight]``: a community's request for a camera there (weight 1: as one incident)."""
    try:
        parts = [float(v) for v in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (2, 3) or (len(parts) == 3 and not 0 < parts[2] <= 100):
        raise ValidationFailed(
            f"a request is lat,lon[,weight] with a weight in (0, 100], not {text[:40]!r}",
            code="bad_request_point",
        )
    return Request(GeoPoint(parts[0], parts[1]), parts[2] if len(parts) == 3 else 1.0)


class CoverageService:
    """Coverage queries; the street samples of the city are prepared once."""

    def __init__(
        self,
        engine: Engine,
        network: RoadNetwork,
        buildings: Callable[[], Buildings],
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.network = network
        self.buildings = buildings
        self.clock = clock
        self._streets: Streets | None = None
        self._lock = threading.Lock()

    def streets(self) -> Streets:
        with self._lock:
            if self._streets is None:
                self._streets = Streets.from_geojson(self.network.road_geojson())
            return self._streets

    def incidents_in(self, box: Box, days: int, station_ids: Collection[str] | None = None) -> list[GeoPoint]:
        """Where incidents happened in the box over the last ``days``, of the stations given
        (None: all): what a blind spot weighs. A station's user weighs by its own incidents only."""
        c = t.incidents.c
        since = self.clock() - timedelta(days=days)
        query = select(c.lat, c.lon).where(
            c.created_at >= since,
            c.lat.between(box.south, box.north),
            c.lon.between(box.west, box.east),
        )
        if station_ids is not None:
            query = query.where(c.station_id.in_(sorted(station_ids)))
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query).all()
        return [GeoPoint(r.lat, r.lon) for r in rows]

    def coverage(self, cameras: Sequence[Camera], box: Box) -> dict[str, Any]:
        covered = street_coverage(self.streets(), box.as_tuple(), cameras, self.buildings())
        layer = covered.geojson()
        layer["properties"] = {
            "bbox": list(box.as_tuple()),
            "street_m": round(covered.total_m, 1),
            "covered_m": round(covered.covered_m, 1),
            "ratio": round(covered.ratio, 4),
            "cameras": {k: round(v, 1) for k, v in covered.per_camera_m.items()},
        }
        return layer

    def blind_spots(
        self,
        cameras: Sequence[Camera],
        box: Box,
        *,
        limit: int,
        suggest: int,
        days: int = HISTORY_DAYS,
        station_ids: Collection[str] | None = None,
        requests: Sequence[Request] = (),
    ) -> dict[str, Any]:
        covered = street_coverage(self.streets(), box.as_tuple(), cameras, self.buildings())
        incidents = self.incidents_in(box, days, station_ids)
        spots = blind_spots(covered, incidents, requests, limit=limit)
        picks = (
            suggest_cameras(covered, self.buildings(), k=suggest, incidents=incidents, requests=requests)
            if suggest
            else []
        )
        spots_layer = blind_spots_geojson(spots)
        picks_layer = suggestions_geojson(picks)
        return {
            "bbox": list(box.as_tuple()),
            "street_m": round(covered.total_m, 1),
            "covered_m": round(covered.covered_m, 1),
            "incidents": len(incidents),
            "requests": len(requests),
            "days": days,
            "blind_spots": [
                {
                    "rank": s.rank,
                    "label": s.label,
                    "label_zh": s.label_zh,
                    "weight": round(s.weight, 3),
                    "uncovered_m": round(s.length_m, 1),
                    "incidents": s.incidents,
                    "lat": s.centroid.lat,
                    "lon": s.centroid.lon,
                    "streets": list(s.streets),
                }
                for s in spots
            ],
            "suggestions": [
                {
                    "rank": p.rank,
                    "lat": p.position.lat,
                    "lon": p.position.lon,
                    "heading_deg": p.view.heading_deg,
                    "fov_deg": p.view.fov_deg,
                    "range_m": p.view.range_m,
                    "adds_weight": round(p.weight_added, 3),
                    "adds_m": round(p.metres_added, 1),
                    "adds_incidents": p.incidents_added,
                    "street": p.street,
                }
                for p in picks
            ],
            "geojson": {
                "type": "FeatureCollection",
                "features": spots_layer["features"] + picks_layer["features"],
            },
        }


__all__ = ["Box", "CoverageService", "around", "parse_request"]
