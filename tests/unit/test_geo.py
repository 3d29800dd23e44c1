from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from doorstep.geo import NOWHERE, Location, Locator


@pytest.fixture(scope="module")
def city_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", ipv4_compatible=True)
    writer.insert_network(
        IPSet(["81.2.69.0/24"]),
        {"country": {"iso_code": "GB"}, "city": {"names": {"en": "London"}}},
    )
    path = tmp_path_factory.mktemp("geo") / "city.mmdb"
    writer.to_db_file(str(path))
    return path


def test_countries_come_from_the_shipped_database() -> None:
    locator = Locator()
    assert locator.locate("8.8.8.8") == Location("US")
    assert locator.locate("133.242.0.1").country == "JP"
    assert locator.locate("::ffff:8.8.8.8").country == "US"


def test_a_city_database_adds_cities_and_falls_back_to_countries(city_db: Path) -> None:
    locator = Locator(city_db)
    assert locator.locate("81.2.69.160") == Location("GB", "London")
    assert locator.locate("8.8.8.8") == Location("US")
    locator.close()


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "::1",
        "fe80::1",
        "100.64.0.1",
        "",
        None,
        "garbage",
        "999.1.1.1",
        "1" * 100,
    ],
)
def test_private_loopback_and_garbage_addresses_have_no_location(ip: str | None) -> None:
    assert Locator().locate(ip) == NOWHERE


@given(st.text(max_size=80))
def test_any_text_is_safe(ip: str) -> None:
    assert isinstance(Locator().locate(ip), Location)
