"""The declarative base and the column types every model shares.

Money is a Decimal kept exactly: NUMERIC(18, 4) on PostgreSQL, and on SQLite (which
has no decimal type and would round-trip through a float) an integer count of
ten-thousandths. Comparisons, +, -, SUM, MIN and MAX in SQL stay exact on both;
multiplying or dividing such columns in SQL would be wrong by the scale on SQLite,
so it is refused: do that arithmetic in Python with app.money. AVG and ROUND carry
no column type and come back scaled on SQLite; average in Python too. Instants are
timezone-aware UTC on both.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app import clock

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: refuses naive datetimes, always comes back aware in UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give a zone")
        value = value.astimezone(UTC)
        # SQLite keeps text without an offset; store UTC wall time and reattach UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Exact(TypeDecorator[Decimal]):
    """A Decimal with a fixed scale: NUMERIC on PostgreSQL, scaled integer on SQLite."""

    impl = sa.Numeric
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[Decimal]):  # noqa: N801
        """Refuses SQL products and quotients, which scaled integers get wrong."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            _refuse_scaling(op)
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            _refuse_scaling(op)
            return super().reverse_operate(op, other, **kwargs)

    def __init__(self, precision: int = 18, scale: int = 4) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(
            sa.Numeric(precision=self.precision, scale=self.scale, asdecimal=True)
        )

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money and rates are never floats; pass a Decimal")
        exact = Decimal(value)
        scaled = exact.quantize(self._quantum)
        if scaled != exact:
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        if dialect.name == "sqlite":
            return int(scaled.scaleb(self.scale))
        return scaled

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value).quantize(self._quantum)


_SCALING_OPERATORS = {operator.mul, operator.truediv, operator.floordiv, operator.mod}


def _refuse_scaling(op: Any) -> None:
    if op in _SCALING_OPERATORS:
        raise TypeError(
            "multiplying or dividing exact money/rate columns in SQL is refused"
            " (wrong by the scale on SQLite): load the values and use app.money"
        )


def Money4() -> Exact:  # noqa: N802 - reads as a column type
    """A money amount column: 18 digits, 4 after the point (beside a currency)."""
    return Exact(18, 4)


def Rate() -> Exact:  # noqa: N802
    """An exchange rate or fee rate column: 8 decimal places."""
    return Exact(18, 8)


def Currency() -> sa.String:  # noqa: N802
    """An ISO 4217 code column."""
    return sa.String(3)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


class Timestamps:
    """created_at / updated_at, stamped from app.clock (never the machine clock)."""

    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), default=lambda: clock.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), default=lambda: clock.now(), onupdate=lambda: clock.now()
    )


def JsonDict() -> Any:  # noqa: N802 - reads as a column type
    """A JSON object column whose top-level changes (d[k] = v) are saved."""
    return MutableDict.as_mutable(sa.JSON())


def JsonList() -> Any:  # noqa: N802
    """A JSON array column whose top-level changes (append, remove) are saved."""
    return MutableList.as_mutable(sa.JSON())


def check_in(column: str, values: tuple[str, ...] | frozenset[str]) -> str:
    """The SQL text of a CHECK that `column` is one of `values`."""
    quoted = ", ".join(f"'{v}'" for v in sorted(values))
    return f"{column} IN ({quoted})"
