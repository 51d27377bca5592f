"""Date arithmetic in SQL that reads the same on SQLite and PostgreSQL, for set-based scans."""

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class days_between(FunctionElement):  # noqa: N801 - reads like the SQL function it stands for
    """The days (fractional) from one instant to another, per row: end - start.

    Jobs compare it with a per-row number of days (a species' quarantine, the 14 days of a
    weight trend), which a bound parameter cannot express.
    """

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"
