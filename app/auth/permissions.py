"""The permission table (role → actions) and the checks every view and endpoint uses."""

from functools import wraps

from flask import abort, g
from flask_login import current_user
from sqlalchemy import ColumnElement, false, true

from app.auth.models import Role

ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.COORDINATOR, Role.VET, Role.KEEPER})
ADMIN = frozenset({Role.ADMIN})
COORDINATION = frozenset({Role.ADMIN, Role.COORDINATOR})
CLINICAL = frozenset({Role.ADMIN, Role.COORDINATOR, Role.VET})
VETS = frozenset({Role.VET})

# One row per action. The README prints this table; the authorization matrix test
# checks every route against it.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "facility.view": ALL_ROLES,
    "facility.manage": ADMIN,
    "enclosure.view": ALL_ROLES,
    "enclosure.manage": ADMIN,
    "species.view": ALL_ROLES,
    "species.manage": ADMIN,
    "user.manage": ADMIN,
    "audit.view": ADMIN,
    "token.manage_own": ALL_ROLES,
    "restricted_fields.view": COORDINATION,
    "case.view": ALL_ROLES,
    "case.manage": COORDINATION,
    "case.hold": COORDINATION,
    "custody.record": COORDINATION,
    "animal.view": ALL_ROLES,
    "animal.admit": COORDINATION,
    "animal.edit": COORDINATION,
    "animal.move": CLINICAL,
    "animal.split": CLINICAL,
    "attachment.view": ALL_ROLES,
    "attachment.upload": STAFF,
    "care.view": ALL_ROLES,
    "care.log": STAFF,  # care logs, task completions and weights
    "care.plan": CLINICAL,  # schedules of animals and enclosures
    "care.template": COORDINATION,  # species' default schedules
    "vet.view": ALL_ROLES,  # medical records, read
    "vet.write": VETS,  # exams, problems, prescriptions, lab results, quarantine clearance, deaths, euthanasia
    "vet.dashboard": CLINICAL,
    "vet.quarantine_tests": VETS,  # the tests each species or class needs before clearance
    "euthanasia.authorise": COORDINATION,  # override an evidence hold for one euthanasia
    "quarantine.override": COORDINATION,  # move an animal out of quarantine before a vet cleared it
    "release.view": ALL_ROLES,  # readiness, plans, sites (coordinates only with restricted_fields.view)
    "release.criteria": COORDINATION,  # the release checklists
    "release.assess": STAFF,  # pass or fail on a manual criterion
    "release.site": COORDINATION,
    "release.plan": COORDINATION,  # plan, approve, complete, cancel; releasability decisions
    "release.signoff": VETS,
    "release.observe": STAFF,  # post-release observations
    "transfer.record": COORDINATION,  # transfers within and out of the network, escapes
    "alert.view": STAFF,  # the inbox shows each role the kinds of alert it is for
    "alert.handle": STAFF,  # acknowledge or resolve an alert one may see
    "job_run.view": ADMIN,
}


def can(action: str, user=None) -> bool:
    """True when the user's role may perform the action (unknown actions are refused)."""
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role in PERMISSIONS.get(action, frozenset())


def require(action: str):
    """View decorator: 401/redirect for anonymous users, 403 (audited) for the wrong role."""
    if action not in PERMISSIONS:
        raise KeyError(f"unknown permission {action!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if not can(action):
                deny(action)
            return view(*args, **kwargs)

        wrapped.permission = action
        return wrapped

    return decorator


def deny(action: str, status: int = 403):
    """Refuse the request, recording the refusal in the audit log."""
    from app.auth.events import record_access_denied

    record_access_denied(action)
    g.access_denied = True
    abort(status)


def facility_clause(column) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (a facility id) to the current user's facilities."""
    ids = current_user.facility_ids
    if ids is None:
        return true()
    if not ids:
        return false()
    return column.in_(ids)


def may_see_facility(facility_id: int | None) -> bool:
    ids = current_user.facility_ids
    return ids is None or facility_id in ids
