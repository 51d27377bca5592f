"""Page through a SELECT with a COUNT: the shape behind every list page and list endpoint."""

from dataclasses import dataclass
from math import ceil
from typing import Any

from sqlalchemy import Select, func, select

from app.extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def envelope(self) -> dict:
        """The API list envelope: {"items": [...], "meta": {"page", "per_page", "total"}}."""
        return {"items": self.items, "meta": {"page": self.page, "per_page": self.per_page, "total": self.total}}


def paginate(stmt: Select, page: int = 1, per_page: int = 50, *, max_per_page: int = 200) -> Page:
    """Two queries whatever the page size: the COUNT and the page's rows."""
    page = max(1, page)
    per_page = max(1, min(per_page, max_per_page))
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).unique().scalars().all()
    return Page(items=list(rows), page=page, per_page=per_page, total=total)
