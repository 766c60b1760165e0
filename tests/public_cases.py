"""The public bug-report cases the tests turn into inputs.

They are kept in `tests/cases/` (a copy of the steering repo's `shared/cases/`, data
only) so a clone runs its tests without `shared/` beside it.
"""

from pathlib import Path

CASES = Path(__file__).resolve().parent / "cases"
