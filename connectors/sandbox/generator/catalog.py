"""The generator's fixed tables: countries, currencies, name parts, hard customers.

Every value here is invented; domains use `.example` (RFC 2606) so no generated
address can ever reach a real mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166 alpha-2
    currency: str
    timezones: tuple[str, ...]  # IANA names; the first is the usual business zone
    cities: tuple[tuple[str, str | None, str], ...]  # (city, region, postal code)
    streets: tuple[str, ...]
    people: tuple[str, ...]  # surnames or given names that front a business name


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country(
            "US",
            "USD",
            (
                "America/New_York",
                "America/Chicago",
                "America/Denver",
                "America/Los_Angeles",
            ),
            (
                ("Portland", "OR", "97205"),
                ("Austin", "TX", "78701"),
                ("Columbus", "OH", "43215"),
                ("Savannah", "GA", "31401"),
                ("Boise", "ID", "83702"),
            ),
            ("Main Street", "Oak Avenue", "Harbor Road", "Elm Street", "Mill Lane"),
            ("Hernandez", "Kowalski", "Washington", "Miller", "Nakamura", "Brooks"),
        ),
        Country(
            "GB",
            "GBP",
            ("Europe/London",),
            (
                ("Leeds", "West Yorkshire", "LS1 4AP"),
                ("Bristol", None, "BS1 5TR"),
                ("Norwich", "Norfolk", "NR2 1BH"),
                ("Cardiff", None, "CF10 1EP"),
            ),
            ("High Street", "Station Road", "Church Lane", "Victoria Road"),
            ("Ashworth", "Pemberton", "Okafor", "Whitlock", "Dunmore"),
        ),
        Country(
            "NZ",
            "NZD",
            ("Pacific/Auckland", "Pacific/Chatham"),
            (
                ("Auckland", None, "1010"),
                ("Christchurch", "Canterbury", "8011"),
                ("Rotorua", "Bay of Plenty", "3010"),
                ("Dunedin", "Otago", "9016"),
            ),
            ("Queen Street", "Tāmaki Drive", "Riccarton Road", "Fenton Street"),
            ("Ngata", "Kōwhai", "Tui", "Pōhutukawa", "Matariki", "Harrow"),
        ),
        Country(
            "AU",
            "AUD",
            ("Australia/Sydney", "Australia/Perth", "Australia/Brisbane"),
            (
                ("Sydney", "NSW", "2000"),
                ("Perth", "WA", "6000"),
                ("Brisbane", "QLD", "4000"),
                ("Hobart", "TAS", "7000"),
            ),
            ("George Street", "Hay Street", "Wickham Terrace", "Murray Street"),
            ("Wattle", "Banksia", "Coolabah", "Jarrah", "Fitzroy"),
        ),
        Country(
            "CA",
            "CAD",
            ("America/Toronto", "America/Vancouver", "America/Halifax"),
            (
                ("Toronto", "ON", "M5H 2N2"),
                ("Vancouver", "BC", "V6B 1A1"),
                ("Halifax", "NS", "B3J 1S9"),
                ("Québec", "QC", "G1R 4P5"),
            ),
            ("Bay Street", "Granville Street", "Barrington Street", "Rue Saint-Jean"),
            ("Tremblay", "Gagnon", "MacLeod", "Côté", "Bouchard"),
        ),
        Country(
            "DE",
            "EUR",
            ("Europe/Berlin",),
            (
                ("Berlin", None, "10115"),
                ("München", "Bayern", "80331"),
                ("Köln", "Nordrhein-Westfalen", "50667"),
                ("Leipzig", "Sachsen", "04109"),
            ),
            ("Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg"),
            ("Müller", "Schröder", "Weiß", "Lindqvist", "Krüger"),
        ),
        Country(
            "PL",
            "PLN",
            ("Europe/Warsaw",),
            (
                ("Warszawa", "mazowieckie", "00-001"),
                ("Kraków", "małopolskie", "30-001"),
                ("Łódź", "łódzkie", "90-001"),
                ("Gdańsk", "pomorskie", "80-001"),
            ),
            ("ul. Marszałkowska", "ul. Floriańska", "ul. Piotrkowska", "ul. Długa"),
            ("Wójcik", "Łukasiewicz", "Zieliński", "Szczęsny", "Kowalczyk"),
        ),
        Country(
            "VN",
            "VND",
            ("Asia/Ho_Chi_Minh",),
            (
                ("Hà Nội", None, "100000"),
                ("Thành phố Hồ Chí Minh", None, "700000"),
                ("Đà Nẵng", None, "550000"),
            ),
            ("Đường Lê Lợi", "Phố Hàng Bạc", "Đường Trần Phú"),
            ("Nguyễn", "Trần", "Phạm", "Lê Hoàng", "Đặng"),
        ),
        Country(
            "JP",
            "JPY",
            ("Asia/Tokyo",),
            (
                ("東京都千代田区", "東京都", "100-0001"),
                ("大阪市北区", "大阪府", "530-0001"),
                ("札幌市中央区", "北海道", "060-0001"),
            ),
            ("丸の内1-1-1", "梅田2-4-9", "大通西3-7"),
            ("さくら", "山田", "富士", "青葉", "松本"),
        ),
        Country(
            "IE",
            "EUR",
            ("Europe/Dublin",),
            (("Dublin", None, "D02 X285"), ("Cork", None, "T12 W8F2")),
            ("O'Connell Street", "Patrick Street", "Grafton Street"),
            ("O'Brien", "O'Sullivan", "Ní Bhriain", "Ó Súilleabháin", "Byrne"),
        ),
    )
}

# The ordinary business zone per home currency, when the caller names none.
HOME_COUNTRY: dict[str, str] = {
    "USD": "US",
    "GBP": "GB",
    "NZD": "NZ",
    "AUD": "AU",
    "CAD": "CA",
    "EUR": "DE",
    "PLN": "PL",
    "VND": "VN",
    "JPY": "JP",
}

# Rough US dollars per unit, mid-2025; only the generator's invented rates use them.
USD_PER_UNIT: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "GBP": Decimal("1.27"),
    "EUR": Decimal("1.085"),
    "NZD": Decimal("0.60"),
    "AUD": Decimal("0.66"),
    "CAD": Decimal("0.73"),
    "PLN": Decimal("0.25"),
    "VND": Decimal("0.000039"),
    "JPY": Decimal("0.0067"),
}

TRADES: tuple[str, ...] = (
    "Plumbing",
    "Bakery",
    "Joinery",
    "Dental",
    "Landscaping",
    "Electrical",
    "Catering",
    "Freight",
    "Print Shop",
    "Veterinary Clinic",
    "Tiling",
    "Café",
    "Studio",
    "Motors",
    "Florist",
    "Engineering",
)

SUFFIXES: dict[str, tuple[str, ...]] = {
    "US": ("LLC", "Inc.", "Co."),
    "GB": ("Ltd", "LLP", "& Sons"),
    "NZ": ("Ltd", "Limited"),
    "AU": ("Pty Ltd",),
    "CA": ("Inc.", "Ltée", "Ltd"),
    "DE": ("GmbH", "KG", "e.K."),
    "PL": ("Sp. z o.o.", "S.A."),
    "VN": ("Công ty TNHH", "Công ty Cổ phần"),
    "JP": ("株式会社", "合同会社"),
    "IE": ("Ltd", "DAC"),
}

CONTACT_NAMES: tuple[str, ...] = (
    "Aroha Ngata",
    "Siobhán O'Brien",
    "Jürgen Weiß",
    "Łucja Wójcik",
    "Trần Thị Mai",
    "山田 花子",
    "Priya Raman",
    "Marcus Brooks",
    "Chloé Tremblay",
    "Liam Fitzroy",
)

TAGS: tuple[str, ...] = ("wholesale", "retail", "priority", "government", "new")


@dataclass(frozen=True)
class HardCustomer:
    """A customer real books hold and integrations trip over."""

    name: str
    country: str
    emails: tuple[str, ...]
    foreign: bool = False  # invoices in its own country's currency, not the home one
    solo: bool = False  # holds its one planned invoice and nothing drawn at random


# Names from public bug reports (cases C07, C17, C29, C30): apostrophes (and a name a
# careless "O'Brien%" prefix search also finds), no e-mail, several e-mails, the
# scripts that core PDF fonts drop, and a customer whose unapplied prepayment is
# larger than the one invoice it owes.
HARD_CUSTOMERS: tuple[HardCustomer, ...] = (
    HardCustomer("O'Brien Haulage", "IE", ("accounts@obrien-haulage.example",)),
    HardCustomer(
        "Nguyễn Thị Hương – Công ty TNHH Đông Á",
        "VN",
        ("ketoan@dong-a.example",),
    ),
    HardCustomer("Zoë Ørsted-Łukasiewicz", "PL", ("zoe@orsted-lukasiewicz.example",)),
    HardCustomer(
        "株式会社さくら商事", "JP", ("keiri@sakura-shoji.example",), foreign=True
    ),
    HardCustomer(
        "Māori Arts Collective Ōtautahi", "NZ", ("kia.ora@mac-otautahi.example",)
    ),
    HardCustomer("Tui Landscaping Ltd", "NZ", ()),
    HardCustomer("Harlow & Finch Dental", "GB", ()),
    HardCustomer(
        "Brightwater Kiosk",
        "AU",
        ("accounts@brightwater.example", "owner@brightwater.example"),
    ),
    HardCustomer(
        "Brasserie Lindqvist GmbH",
        "DE",
        ("buchhaltung@lindqvist.example",),
        foreign=True,
    ),
    HardCustomer("Maeve O'Brien's Bakery & Cafe", "IE", ("orders@maeves.example",)),
    HardCustomer("Brien Street Motors", "US", ("service@brien-street.example",)),
    HardCustomer(
        "Delgado-Whitfield Events",
        "US",
        ("events@delgado-whitfield.example",),
        solo=True,
    ),
)
