"""The company is read once and shared between jobs; a full sync reads it afresh."""

from connectors import company_cache


def test_a_second_connector_takes_the_company_from_the_shared_cache(env):
    first = env.connector().company()
    assert env.api_calls() == 2  # CompanyInfo and Preferences

    again = env.connector().company()  # another job, another connector
    assert again == first
    assert env.api_calls() == 2

    env.connector().company(fresh=True)  # a full sync
    assert env.api_calls() == 4


def test_the_creditors_zone_wins_over_the_cached_one(env):
    plain = env.connector().company()
    assert plain.timezone != "Pacific/Honolulu"

    chosen = env.connector(timezone="Pacific/Honolulu").company()
    assert chosen.timezone == "Pacific/Honolulu"
    assert chosen.home_currency == plain.home_currency
    # The cache keeps the ledger's own zone, not one creditor's override.
    cached = company_cache.load(env.redis, plain.ledger, env.realm)
    assert cached is not None and cached.timezone == plain.timezone


def test_an_unreadable_cache_entry_is_read_from_the_ledger_again(env):
    env.redis.set(f"care:company:quickbooks:{env.realm}", b"{not json")
    assert env.connector().company().id == env.realm
    assert env.api_calls() == 2
