"""Addresses (标准地址) from the city's OpenStreetMap data: streets, house numbers, intersections,
named places, district and street-office areas; search by what a call taker types, and the address
at a point. Data: © OpenStreetMap contributors, ODbL."""

from jingwu.geocode.index import FORMAT_VERSION, Geocoder, boundaries, load_geocoder
from jingwu.geocode.model import KINDS, Match, NearbyStreet, Place

__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "Geocoder",
    "Match",
    "NearbyStreet",
    "Place",
    "boundaries",
    "load_geocoder",
]
