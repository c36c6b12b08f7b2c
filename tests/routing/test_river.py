"""The Songhua can only be crossed on its bridges: road time, not distance, must rank units."""

from __future__ import annotations

from jingwu.routing import RoadNetwork

from .helpers import metres

# Coordinates found by snapping around the named spots; each is within a few metres of its road.
INCIDENT = (45.77744, 126.62002)  # 友谊路, south bank by Stalin Park (道里区)
NORTH_UNIT = (45.80023, 126.61084)  # 船厂路, north bank (太阳岛 / 松北), ~2.6 km as the crow flies
SOUTH_UNIT = (45.75002, 126.59996)  # 建河二道街, south bank, ~3.4 km as the crow flies

URBAN_SPEED_MS = 40 / 3.6


def test_nearest_by_time_river_between_units_same_bank_unit_ranks_first(network: RoadNetwork) -> None:
    incident = network.snap(*INCIDENT)
    north, south = network.snap(*NORTH_UNIT), network.snap(*SOUTH_UNIT)
    assert max(incident.offset_m, north.offset_m, south.offset_m) < 5.0
    crow_north = metres(incident.lat, incident.lon, north.lat, north.lon)
    crow_south = metres(incident.lat, incident.lon, south.lat, south.lon)
    assert crow_north < crow_south  # the north unit looks closer on a map

    ranked = network.nearest_by_time(incident, [north, south], 2)

    assert [r.index for r in ranked] == [1, 0]
    by_road = {r.index: r for r in ranked}
    # Crossing means a bridge: the road trip is several times the straight line.
    assert by_road[0].distance_m > 4 * crow_north
    assert by_road[0].eta_s > 3 * crow_north / URBAN_SPEED_MS
    assert by_road[1].eta_s < by_road[0].eta_s / 2


def test_route_across_river_takes_a_bridge_and_is_long_both_ways(network: RoadNetwork) -> None:
    incident = network.snap(*INCIDENT)
    north = network.snap(*NORTH_UNIT)
    there, back = network.route(north, incident), network.route(incident, north)
    assert there is not None and back is not None
    assert there.eta_s > 600 and back.eta_s > 600
    # The route leaves the bank: somewhere it is well north of both ends' latitude band crossing.
    lats = [lat for _, lat in there.coordinates]
    assert min(lats) < 45.78 < max(lats)
