"""Who a message is from, who it is for, and who the debtor can talk to."""

from __future__ import annotations

from dataclasses import dataclass

from app.channels.text import one_line

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Letterhead:
    """The sender printed at the top of a letter: the creditor's or the program's."""

    name: str
    address_lines: tuple[str, ...] = ()
    email: str = ""
    phone: str = ""
    website: str = ""
    logo_png: bytes | None = None

    def __post_init__(self) -> None:
        _require(self.name, "letterhead name")
        object.__setattr__(self, "name", one_line(self.name))
        object.__setattr__(self, "address_lines", _lines(self.address_lines))
        if self.logo_png is not None and not self.logo_png.startswith(PNG_SIGNATURE):
            raise ValueError(f"letterhead logo for {self.name!r} is not a PNG image")


@dataclass(frozen=True)
class Representative:
    """The program's dedicated representative, named on every message."""

    name: str
    email: str
    phone: str = ""
    title: str = ""

    def __post_init__(self) -> None:
        _require(self.name, "representative name")
        _require(self.email, "representative e-mail")
        object.__setattr__(self, "name", one_line(self.name))


@dataclass(frozen=True)
class Debtor:
    """The customer who owes the creditor, as the ledger names them."""

    name: str
    address_lines: tuple[str, ...] = ()
    contact_name: str = ""  # the person to greet, when the ledger has one

    def __post_init__(self) -> None:
        _require(self.name, "debtor name")
        object.__setattr__(self, "name", one_line(self.name))
        object.__setattr__(self, "contact_name", one_line(self.contact_name))
        object.__setattr__(self, "address_lines", _lines(self.address_lines))


def _require(value: str, what: str) -> None:
    if not value or not value.strip():
        raise ValueError(f"{what} is empty")


def _lines(lines: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    # An entry holding a whole pasted address becomes one line per line it holds.
    split = [part for line in lines if line for part in line.splitlines()]
    return tuple(one_line(part) for part in split if part.strip())
