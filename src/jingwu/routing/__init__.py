"""Road routing on OpenStreetMap data: snap points to roads, rank units by road travel time.

Data: the bundled Harbin extract is © OpenStreetMap contributors, ODbL.
"""

from jingwu.routing.graph import RoadNetwork, load_network
from jingwu.routing.model import Reach, RoadPoint, Route

__all__ = ["Reach", "RoadNetwork", "RoadPoint", "Route", "load_network"]
