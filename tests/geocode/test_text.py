"""Normalising what a call taker types, and taking an address apart."""

from __future__ import annotations

from jingwu.geocode.text import (
    HouseNumber,
    clean_house_number,
    clean_osm_name,
    normalise,
    split_crossing,
    split_house_number,
    strip_admin_suffix,
)


def test_full_width_digits_traditional_hao_and_punctuation_fold_to_one_form() -> None:
    assert normalise("红军街 ８５號") == "红军街85号"
    assert normalise("Ｈｅｂｇｙｄｘ") == "hebgydx"
    assert normalise("（南岗區）红军街。") == "南岗区红军街"


def test_a_query_reads_slashes_and_enumeration_commas_between_streets_as_yu() -> None:
    assert normalise("红军街/果戈里大街", query=True) == "红军街与果戈里大街"
    assert normalise("红军街、果戈里大街", query=True) == "红军街与果戈里大街"


def test_an_intersection_splits_in_the_order_typed_with_and_without_its_ending() -> None:
    assert split_crossing("红军街与果戈里大街交口")[0] == ("红军街", "果戈里大街")
    assert ("红军街", "中山路") in split_crossing("红军街和中山路口")
    assert split_crossing("和平路") == []


def test_a_house_number_is_split_from_its_street_with_or_without_hao() -> None:
    assert split_house_number("红军街85号") == HouseNumber("红军街", "85")
    assert split_house_number("河沟街38-8") == HouseNumber("河沟街", "38-8")
    assert split_house_number("红军街") is None
    assert split_house_number("85号") is None


def test_osm_names_keep_their_chinese_part() -> None:
    assert clean_osm_name("红军街 - Hongjun Street") == "红军街"
    assert clean_osm_name("Nantong (一曼街)") == "一曼街"
    assert clean_osm_name("Zhongxing Avenue") == "Zhongxing Avenue"
    assert clean_house_number("3号-1层") == "3"
    assert clean_house_number("no number") == ""


def test_admin_names_have_a_short_form() -> None:
    assert strip_admin_suffix("南岗区") == "南岗"
    assert strip_admin_suffix("保健路街道办事处") == "保健路"
    assert strip_admin_suffix("哈尔滨市") == "哈尔滨"
    assert strip_admin_suffix("区") == ""
