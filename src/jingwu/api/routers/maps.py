"""The console's base map: where to look, the roads, and the water, parks and names to draw (no
tile server needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from jingwu.api.deps import MapReader, ServicesDep
from jingwu.api.schemas.responses import MapConfigOut
from jingwu.service.basemap import RoadLayer

router = APIRouter(prefix="/api/map", tags=["map"])

# The layers change only with a new OSM file (a restart); an hour keeps reloads cheap and an ETag
# makes the revalidation after it a 304.
ROADS_CACHE_CONTROL = "private, max-age=3600"
GEOJSON = "application/geo+json"


@router.get("/config", response_model=MapConfigOut)
def config(_user: MapReader, services: ServicesDep) -> MapConfigOut:
    return MapConfigOut.model_validate(services.maps.config())


@router.get(
    "/roads",
    response_class=Response,
    responses={
        200: {
            "content": {GEOJSON: {}},
            "description": "GeoJSON FeatureCollection: one MultiLineString Feature per road class "
            '(properties.class: "motorway", "trunk", "primary", "secondary", "tertiary" or "minor"), '
            "minor first; [lon, lat] to 5 decimals",
        },
        304: {"description": "the road layer named by If-None-Match is current"},
    },
)
def roads(request: Request, _user: MapReader, services: ServicesDep) -> Response:
    return _serve(request, services.maps.roads())


@router.get(
    "/features",
    response_class=Response,
    responses={
        200: {
            "content": {GEOJSON: {}},
            "description": "GeoJSON FeatureCollection of what the map draws besides roads, [lon, lat] "
            'to 5 decimals. Areas, bottom first: properties.layer "green" (kind "grass", "wood", '
            '"park") and "water", each one MultiPolygon; "waterway" (kind "river", "canal", "stream", '
            '"drain", "ditch") MultiLineStrings. Then layer "label", most important first: '
            'kind "street" and "waterway" (a LineString to write the name along; properties.class: '
            'the road class or waterway kind) and points (kind "quarter", "community", "village", '
            '"hospital", "police", "station", "school", "mall", "government", "fire", "park", '
            '"water"); each with name, z (the zoom it shows from), zx (optional: the last zoom it '
            "shows at) and p (importance: where labels collide, the higher one is kept)",
        },
        304: {"description": "the layer named by If-None-Match is current"},
    },
)
def features(request: Request, _user: MapReader, services: ServicesDep) -> Response:
    return _serve(request, services.maps.features())


def _serve(request: Request, layer: RoadLayer) -> Response:
    gzipped = _accepts_gzip(request.headers.get("accept-encoding", ""))
    # Each encoding is its own representation, with its own strong validator.
    etag = layer.etag[:-1] + '-gz"' if gzipped else layer.etag
    headers = {"ETag": etag, "Cache-Control": ROADS_CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match"), (layer.etag, layer.etag[:-1] + '-gz"')):
        return Response(status_code=304, headers=headers)
    if gzipped:
        # Compressed once when built; the GZip middleware leaves a response with an encoding alone.
        return Response(layer.gzipped, media_type=GEOJSON, headers=headers | {"Content-Encoding": "gzip"})
    return Response(layer.body, media_type=GEOJSON, headers=headers)


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and _q_is_zero(q[2:]))
    return False


def _q_is_zero(value: str) -> bool:
    try:
        return float(value) == 0.0
    except ValueError:
        return False


def _matches(if_none_match: str | None, etags: tuple[str, ...]) -> bool:
    if not if_none_match:
        return False
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in wanted or not wanted.isdisjoint(etags)
