"""Saving an HTML form through a service: commit once, refusals onto the form, stale edits as conflicts.

Every domain's pages use these, so a refused change always re-renders the form with
the service's messages next to the fields and what was typed kept, and an edit made
on a stale read is answered 409 with the current values, never silently applied.
"""

from enum import Enum

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Field

from app.common.errors import RuleError
from app.extensions import db


class Outcome(Enum):
    SAVED = "saved"
    REFUSED = "refused"
    STALE = "stale"


def save(form, write, *, clash_message: str | None = None) -> Outcome:
    """Run one service call and commit it; on refusal put the messages on the form's fields.

    STALE means the row changed between our read and our UPDATE (SQLAlchemy's version
    check): the caller answers it like a stale form. After REFUSED or STALE the session
    was rolled back, so the caller reloads the record before showing it.
    """
    try:
        write()
        db.session.commit()
    except RuleError as error:
        db.session.rollback()
        show_errors(form, error.fields)
        return Outcome.REFUSED
    except StaleDataError:
        db.session.rollback()
        return Outcome.STALE
    except IntegrityError:
        # Another request saved something this clashes with between our check and our write.
        db.session.rollback()
        form.form_errors.append(clash_message or _("This clashes with a record saved a moment ago. "
                                                   "Check the form and save again."))
        return Outcome.REFUSED
    return Outcome.SAVED


def show_errors(form, fields: dict[str, list[str]]) -> None:
    """The service's messages on the matching fields; any others above the form.

    A form with an `add_errors(fields)` method places them itself (e.g. under a table of rows).
    """
    if hasattr(form, "add_errors"):
        form.add_errors(fields)
        return
    for name, messages in fields.items():
        field = form._fields.get(name)
        if isinstance(field, Field) and name not in ("version", "csrf_token"):
            field.errors = [*field.errors, *map(str, messages)]
        else:
            form.form_errors.extend(map(str, messages))


def edit_versioned(record, form, *, write, reload, page, saved, clash_message: str | None = None):
    """The POST of an edit form for a versioned record.

    A form whose `version` is not the record's is a conflict (409) showing the current
    values; otherwise `write(record)` runs through save(), and a row changed between
    our read and our UPDATE is the same conflict. `page(form, record, conflict=, status=)`
    renders the form, `saved(record)` answers a successful save, `reload()` reads anew.
    """
    valid = form.validate()
    if form.version.data != record.version:
        arm_with_current_version(form, record)
        return page(form, record, conflict=True, status=409)
    if valid:
        outcome = save(form, lambda: write(record), clash_message=clash_message)
        if outcome is Outcome.SAVED:
            return saved(record)
        record = reload()
        if outcome is Outcome.STALE:
            arm_with_current_version(form, record)
            return page(form, record, conflict=True, status=409)
    return page(form, record)


def arm_with_current_version(form, record) -> None:
    """After a conflict the form carries the current version: saving again is a deliberate choice."""
    form.version.data = record.version
    form.version.raw_data = [str(record.version)]
