"""Audit capture: every ORM change writes who, what and when, from one place."""

import pytest
import sqlalchemy as sa

from app.common.audit import AuditEvent, acting_as
from app.reference.models import Enclosure, Species
from tests import factories


def _events(db, entity_type, entity_id=None):
    stmt = sa.select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == str(entity_id))
    return db.session.execute(stmt).scalars().all()


@pytest.fixture
def admin_headers(client, make_user):
    admin = make_user("admin", email="head@example.org")
    token = client.post("/api/v1/auth/tokens", json={"email": admin.email, "password": factories.DEFAULT_PASSWORD})
    return {"Authorization": f"Bearer {token.json['token']}"}


def test_species_create_edit_delete_are_audited_with_the_acting_user(client, db, admin_headers):
    body = {"scientific_name": "Manis javanica", "common_name_en": "Sunda pangolin", "taxon_class": "mammal",
            "iucn_status": "CR", "cites_appendix": "I"}
    created = client.post("/api/v1/species", json=body, headers=admin_headers).json
    client.patch(f"/api/v1/species/{created['id']}", json={"version": created["version"], "quarantine_days": 45},
                 headers=admin_headers)
    species = db.session.get(Species, created["id"])
    with acting_as("cli"):
        db.session.delete(species)
        db.session.flush()

    insert, update, delete = _events(db, "Species", created["id"])
    assert (insert.action, insert.actor) == ("insert", "head@example.org")
    assert insert.changes["scientific_name"] == "Manis javanica"
    assert (update.action, update.actor) == ("update", "head@example.org")
    assert update.changes["quarantine_days"] == {"old": 30, "new": 45}
    assert (delete.action, delete.actor) == ("delete", "cli")
    assert delete.changes["common_name_en"] == "Sunda pangolin"


def test_enclosure_changes_are_audited(client, db, admin_headers, facility):
    body = {"facility_id": facility.id, "code": "Q-1", "name": "Quarantine 1", "is_quarantine": True}
    created = client.post("/api/v1/enclosures", json=body, headers=admin_headers).json
    client.patch(f"/api/v1/enclosures/{created['id']}", json={"version": created["version"], "capacity": 6},
                 headers=admin_headers)
    with acting_as("system:test"):
        db.session.delete(db.session.get(Enclosure, created["id"]))
        db.session.flush()
    actions = [(e.action, e.actor) for e in _events(db, "Enclosure", created["id"])]
    assert actions == [("insert", "head@example.org"), ("update", "head@example.org"), ("delete", "system:test")]


def test_user_changes_are_audited_without_password_hashes(db, facility):
    with acting_as("cli"):
        user = factories.UserFactory(role="keeper", facilities=[facility])
        user.role = "vet"
        user.password_hash = "$argon2id$new"
        db.session.flush()
        db.session.delete(user)
        db.session.flush()
    events = _events(db, "User", user.id)
    assert [e.action for e in events] == ["insert", "update", "delete"]
    assert events[1].changes["role"] == {"old": "keeper", "new": "vet"}
    assert events[1].changes["password_hash"] == "<changed>"
    everything = " ".join(str(e.changes) for e in events)
    assert "$argon2" not in everything
    assert events[0].changes["facilities"] == {"added": [str(facility.id)], "removed": []}


def test_refused_access_is_audited(client, login, db):
    user = login("keeper")
    assert client.get("/admin/users").status_code == 403
    refused = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "access_denied", AuditEvent.actor_id == user.id)
    ).scalar_one()
    assert refused.changes["path"] == "/admin/users"


def test_logout_is_audited(client, login, db):
    user = login("viewer")
    client.post_form("/logout")
    actions = db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.actor_id == user.id)).scalars().all()
    assert "logout" in actions


def test_the_database_refuses_to_change_or_delete_audit_rows(db, facility):
    with acting_as("cli"):
        factories.EnclosureFactory(facility=facility)
    event_id = db.session.execute(sa.select(AuditEvent.id)).scalars().first()
    for statement in (sa.update(AuditEvent).where(AuditEvent.id == event_id).values(actor="someone else"),
                      sa.delete(AuditEvent).where(AuditEvent.id == event_id)):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.session.begin_nested():
            db.session.execute(statement)
