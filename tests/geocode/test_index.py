"""The index rules on a hand-made city: what becomes an entry, with which district, and how
the search and the reverse look-up read it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from jingwu.geocode import Geocoder, boundaries, load_geocoder
from jingwu.geocode.boundaries import contains
from jingwu.geocode.index import FORMAT_VERSION, _read_cache
from tests.geocode.osm_fixture import lonlat, write_city


def _entries(city: Geocoder, kind: str) -> list[tuple[str, str]]:
    d = city.data
    return sorted((str(d.name[i]), str(d.district[i])) for i in np.flatnonzero(d.kind == kind))


def test_two_streets_of_one_name_far_apart_are_two_entries_each_in_its_district(city: Geocoder) -> None:
    assert _entries(city, "street") == [("果戈里大街", "西区"), ("红军街", "东区"), ("红军街", "西区")]


def test_streets_sharing_a_node_make_an_intersection_there(city: Geocoder) -> None:
    assert _entries(city, "crossing") == [("果戈里大街与红军街交口", "西区")]
    (found,) = [m for m in city.search("红军街与果戈里大街交口") if m.kind == "crossing"]
    lon, lat = lonlat(5, 5)
    assert (round(found.lon, 6), round(found.lat, 6)) == (round(lon, 6), round(lat, 6))


def test_an_intersection_is_found_in_either_order_and_with_other_separators(city: Geocoder) -> None:
    first = city.search("红军街与果戈里大街交口")[0]
    for text in ("果戈里大街与红军街交口", "红军街和果戈里大街", "果戈里大街/红军街"):
        assert city.search(text)[0] == first


def test_a_house_number_is_found_by_its_street_with_hao_or_its_traditional_form(city: Geocoder) -> None:
    assert _entries(city, "address") == [("红军街85号", "西区")]
    for text in ("红军街85号", "红军街85號", "红军街８５号", "西区红军街85"):
        top = city.search(text)[0]
        assert (top.label, top.kind, top.score) == ("红军街85号", "address", 100.0)


def test_a_missing_house_number_falls_back_to_its_street_marked_down(city: Geocoder) -> None:
    top = city.search("西区红军街999号")[0]
    assert (top.label, top.kind) == ("红军街", "street")
    assert top.score < 90


def test_a_named_district_picks_its_street_of_two_of_the_same_name(city: Geocoder) -> None:
    assert city.search("东区红军街")[0].district == "东区"
    assert city.search("西区红军街")[0].district == "西区"
    assert city.search("滨城市东区红军街")[0].district == "东区"


def test_a_one_character_typo_and_pinyin_initials_still_find_the_place(city: Geocoder) -> None:
    assert city.search("西区红君街")[0].label == "红军街"  # 君: same sound as 军
    assert city.search("hebgydx")[0].label == "哈尔滨工业大学"
    assert city.search("哈工大")[0].label == "哈尔滨工业大学"  # its short_name
    assert city.search("哈尔滨工业")[0].label == "哈尔滨工业大学"  # typed so far


def test_places_get_their_kind_from_their_tags(city: Geocoder) -> None:
    assert _entries(city, "school") == [("哈尔滨工业大学", "西区")]
    assert _entries(city, "hospital") == [("第一医院", "西区")]


def test_nonsense_finds_nothing_and_an_empty_query_finds_nothing(city: Geocoder) -> None:
    assert city.search("！？ 。") == []
    assert [m for m in city.search("完全无关的名字") if m.score >= 60] == []


def test_reverse_gives_the_near_address_the_street_and_the_areas(city: Geocoder) -> None:
    lon, lat = lonlat(7, 5.3)
    place = city.reverse(lat, lon)
    assert place.address is not None and place.address.label == "红军街85号"
    assert place.street is not None and place.street.name == "红军街"
    assert (place.district, place.subdistrict) == ("西区", "西山街道")
    assert place.label == "西区红军街85号"


def test_reverse_far_from_any_address_names_the_street_or_nothing(city: Geocoder) -> None:
    lon, lat = lonlat(16, 2.2)
    place = city.reverse(lat, lon)
    assert place.address is None
    assert place.street is not None and place.street.name == "红军街"
    assert place.label == "东区红军街"
    lon, lat = lonlat(200, 200)
    assert city.reverse(lat, lon).label == ""


def test_boundaries_close_a_district_cut_by_the_file_along_its_box(city_osm: Path) -> None:
    areas = {(name, level): rings for name, level, rings in boundaries(city_osm)}
    assert set(areas) == {("西区", 6), ("东区", 6), ("西山街道", 8)}
    east = areas[("东区", 6)]
    inside = contains(east, *map(np.array, zip(lonlat(15, 5), lonlat(5, 5), strict=True)))
    assert inside.tolist() == [True, False]


def test_the_index_is_cached_by_the_file_content_and_read_back_whole(tmp_path: Path) -> None:
    osm = write_city(tmp_path / "town.osm")
    osm.write_text(osm.read_text(encoding="utf-8") + "<!-- another file -->\n", encoding="utf-8")
    cache = tmp_path / "cache"
    built = load_geocoder(osm, cache)
    (cached,) = cache.glob(f"town.*.geocode.v{FORMAT_VERSION}.npz")
    data = _read_cache(cached, hashlib.sha256(osm.read_bytes()).hexdigest())
    assert data is not None
    assert data.name.tolist() == built.data.name.tolist()
    assert _read_cache(cached, "another file") is None
    cached.write_bytes(b"truncated")
    assert _read_cache(cached, "x") is None
