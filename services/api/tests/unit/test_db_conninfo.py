"""The API's connections are read-only and keep the options the URL carries."""

from psycopg.conninfo import conninfo_to_dict

from tickwire_api.adapters.db import read_only_conninfo


def test_a_url_without_options_gets_read_only() -> None:
    info = conninfo_to_dict(read_only_conninfo("postgresql://u:p@db:5432/tickwire"))
    assert info["options"] == "-c default_transaction_read_only=on -c TimeZone=UTC"
    assert (info["host"], info["port"], info["dbname"], info["user"]) == (
        "db",
        "5432",
        "tickwire",
        "u",
    )
    assert info["application_name"] == "tickwire-api"


def test_the_urls_own_options_are_kept() -> None:
    url = "postgresql://u@db/tickwire?options=-c%20search_path%3Dmarket"
    info = conninfo_to_dict(read_only_conninfo(url))
    assert info["options"] == (
        "-c search_path=market -c default_transaction_read_only=on -c TimeZone=UTC"
    )
