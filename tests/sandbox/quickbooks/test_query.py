"""The query language: what parses, what faults, what comes back."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from connectors.sandbox.quickbooks.queries import run_query
from connectors.sandbox.quickbooks.query import parse
from connectors.sandbox.quickbooks.wire import QboFault


def test_order_by_and_orderby_both_parse_with_direction() -> None:
    spaced = parse("SELECT * FROM Invoice ORDER BY DueDate DESC MAXRESULTS 5")
    joined = parse("select * from Invoice orderby DueDate asc startposition 3")

    assert spaced.order == [("DueDate", True)] and spaced.max_results == 5
    assert joined.order == [("DueDate", False)] and joined.start == 3
    assert joined.max_results == 100  # the default page


def test_escaped_apostrophe_is_part_of_the_literal() -> None:
    query = parse(r"SELECT * FROM Customer WHERE DisplayName = 'O\'Brien\'s'")

    assert query.conditions[0].values == ("O'Brien's",)


def test_unescaped_apostrophe_is_a_4000_parser_error() -> None:
    with pytest.raises(QboFault) as caught:
        parse("SELECT * FROM Customer WHERE DisplayName = 'O'Brien Haulage'")

    assert caught.value.code == "4000"
    assert caught.value.detail.startswith("QueryParserError: Encountered")


def test_maxresults_over_1000_is_a_validation_fault() -> None:
    with pytest.raises(QboFault) as caught:
        parse("SELECT * FROM Invoice MAXRESULTS 1500")

    assert "value 1500 is too large. Max allowed value is 1000" in caught.value.detail


def test_item_all_sends_star_sku_and_it_parses() -> None:
    assert parse("SELECT *, Sku FROM Item MAXRESULTS 100").entity == "Item"


def test_or_and_unknown_entities_fault() -> None:
    with pytest.raises(QboFault):
        parse("SELECT * FROM Invoice WHERE Balance > '0' OR DocNumber = '1'")
    with pytest.raises(QboFault):
        parse("SELECT * FROM invoice")  # entity names are case sensitive


def test_where_in_like_and_quoted_numbers_filter_rows(sandbox, company) -> None:
    realm = sandbox.realm(company)

    def ids(text: str) -> list[str]:
        body = run_query(realm, text)["QueryResponse"]
        return [row["Id"] for row in body.get("Invoice", [])]

    assert ids("SELECT * FROM Invoice WHERE Balance > '100'") == ["1002"]
    assert ids("SELECT * FROM Invoice WHERE Balance >= '100' ORDERBY Id DESC") == [
        "1002",
        "1001",
    ]
    assert ids("SELECT * FROM Invoice WHERE Id IN ('1001', '1003')") == ["1001", "1003"]
    assert ids("SELECT * FROM Invoice WHERE CustomerRef = '64' AND Balance < 100") == [
        "1003"
    ]
    assert ids("SELECT * FROM Invoice WHERE DueDate <= '2025-03-20'") == [
        "1001",
        "1002",
    ]
    assert ids("SELECT * FROM Invoice WHERE DocNumber LIKE '200%'") == [
        "1001",
        "1002",
        "1003",
    ]


def test_count_and_empty_result_shapes(sandbox, company) -> None:
    realm = sandbox.realm(company)

    count = run_query(realm, "SELECT COUNT(*) FROM Invoice WHERE Balance > '0'")
    empty = run_query(realm, "SELECT * FROM Invoice WHERE Balance > '100000'")

    assert count["QueryResponse"] == {"totalCount": 3}
    assert empty["QueryResponse"] == {}  # no entity key at all
    assert empty["time"].endswith("-07:00")  # Los Angeles in May


def test_page_reports_start_position_and_rows_returned(sandbox, company) -> None:
    realm = sandbox.realm(company)

    body = run_query(realm, "SELECT * FROM Invoice STARTPOSITION 2 MAXRESULTS 5")

    page = body["QueryResponse"]
    assert [row["Id"] for row in page["Invoice"]] == ["1002", "1003"]
    assert (page["startPosition"], page["maxResults"]) == (2, 2)
    assert page["Invoice"][0]["TotalAmt"] == Decimal("250.50")


def test_query_by_get_and_by_post_text_over_http(sandbox, company, server) -> None:
    tokens = sandbox.issue_tokens(company)
    headers = {
        "Authorization": f"Bearer {tokens['access_token']}",
        "Accept": "application/json",
    }
    url = f"{server.url}/v3/company/{company}/query"
    statement = (
        "SELECT * FROM Customer WHERE DisplayName = 'Maeve O\\'Brien\\'s Bakery & Cafe'"
    )

    by_get = requests.get(
        url,
        params={"query": statement, "minorversion": "75"},
        headers=headers,
        timeout=5,
    )
    by_post = requests.post(
        url,
        data=statement.encode("utf-8"),
        headers={**headers, "Content-Type": "application/text"},
        timeout=5,
    )

    assert by_get.status_code == by_post.status_code == 200
    assert by_get.json()["QueryResponse"]["Customer"][0]["Id"] == "58"
    assert by_post.json() == by_get.json()


def test_parser_fault_over_http_is_a_400_json_fault(sandbox, company, server) -> None:
    tokens = sandbox.issue_tokens(company)
    response = requests.post(
        f"{server.url}/v3/company/{company}/query",
        data=b"SELECT * FROM Customer WHERE DisplayName = 'O'Brien'",
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "Content-Type": "application/text",
        },
        timeout=5,
    )

    assert response.status_code == 400
    error = response.json()["Fault"]["Error"][0]
    assert response.json()["Fault"]["type"] == "ValidationFault"
    assert (error["code"], error["Message"]) == ("4000", "Error parsing query")


def test_ids_compare_as_numbers_not_text(sandbox, company) -> None:
    realm = sandbox.realm(company)
    sandbox.load(
        company, {"Customer": [{"Id": "9", "DisplayName": "Nine"}]}, notify=False
    )

    body = run_query(realm, "SELECT * FROM Customer WHERE Id > '10' ORDERBY Id")

    assert [row["Id"] for row in body["QueryResponse"]["Customer"]] == ["58", "64"]


def test_docnumbers_stay_text(sandbox, company) -> None:
    realm = sandbox.realm(company)

    body = run_query(realm, "SELECT * FROM Invoice WHERE DocNumber = '02001'")

    assert body["QueryResponse"] == {}


def test_utf8_names_match_through_the_sdk(sandbox, company, connect) -> None:
    from quickbooks.objects.customer import Customer

    sandbox.load(
        company,
        {"Customer": [{"Id": "70", "DisplayName": "Zoë Ørsted-Łukasiewicz"}]},
        notify=False,
    )
    qb = connect(company)

    found = Customer.filter(DisplayName="Zoë Ørsted-Łukasiewicz", qb=qb)

    assert [c.Id for c in found] == ["70"]


def test_body_that_is_not_utf8_is_refused(sandbox, company, server) -> None:
    token = sandbox.issue_tokens(company)["access_token"]

    answer = requests.post(
        f"{server.url}/v3/company/{company}/query",
        data="SELECT * FROM Customer WHERE DisplayName = 'Zoë'".encode("latin-1"),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/text",
        },
        timeout=5,
    )

    assert answer.status_code == 400
    assert answer.json()["Fault"]["Error"][0]["code"] == "500"


def test_company_info_preferences_and_items_through_the_sdk(
    sandbox, company, connect
) -> None:
    from quickbooks.objects.company_info import CompanyInfo
    from quickbooks.objects.item import Item
    from quickbooks.objects.preferences import Preferences

    qb = connect(company)

    info = CompanyInfo.all(qb=qb)[0]
    by_realm = CompanyInfo.get(company, qb=qb)
    items = Item.all(qb=qb)  # sends SELECT *, Sku FROM Item
    prefs = Preferences.get(qb=qb)

    assert info.CompanyName == by_realm.CompanyName == "Harbour Joinery"
    assert info.DefaultTimeZone == "America/Los_Angeles"
    assert [i.Name for i in items] == ["Services"]
    assert prefs.CurrencyPrefs.HomeCurrency.value == "USD"


def test_exchange_rate_needs_a_multicurrency_company(sandbox, company, server) -> None:
    token = sandbox.issue_tokens(company)["access_token"]

    answer = requests.get(
        f"{server.url}/v3/company/{company}/exchangerate",
        params={"sourcecurrencycode": "EUR", "asofdate": "2025-05-06"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=5,
    )

    assert answer.status_code == 400
    assert (
        "Multicurrency is not enabled" in answer.json()["Fault"]["Error"][0]["Detail"]
    )


def test_last_updated_time_compares_as_instants_across_offsets(
    sandbox, company, clock
) -> None:
    from datetime import timedelta

    clock.advance(timedelta(hours=2))  # 07:00 in Los Angeles, 14:00 UTC
    sandbox.write(
        company,
        "Invoice",
        {"Id": "1003", "SyncToken": "0", "sparse": True, "PrivateNote": "touched"},
    )
    realm = sandbox.realm(company)

    def ids(text: str) -> list[str]:
        rows = run_query(realm, text)["QueryResponse"].get("Invoice", [])
        return [row["Id"] for row in rows]

    after = "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{}'"
    assert ids(after.format("2025-05-01T13:59:00Z")) == ["1003"]
    assert ids(after.format("2025-05-01T06:59:00-07:00")) == ["1003"]
    assert ids(after.format("2025-05-01T14:01:00+00:00")) == []
