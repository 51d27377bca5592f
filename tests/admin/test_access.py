"""Only administrators reach the admin pages; everyone else gets 403, anonymous users sign in."""

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.common.audit import AuditEvent

NON_ADMIN_ROLES = ["coordinator", "vet", "keeper", "viewer"]


def admin_requests(target: User) -> list[tuple[str, str, dict]]:
    """(method, path, form data) for every admin page and action, aimed at `target`."""
    edit = {"name": "Hijacked", "role": "admin", "locale": "", "version": target.version}
    return [
        ("GET", "/admin/users", {}),
        ("GET", "/admin/users/new", {}),
        ("POST", "/admin/users/new", {"email": "intruder@example.org", "name": "Intruder", "role": "admin",
                                      "locale": "", "password": "tamarind monsoon lantern 42"}),
        ("GET", f"/admin/users/{target.id}/edit", {}),
        ("POST", f"/admin/users/{target.id}/edit", edit),
        ("POST", f"/admin/users/{target.id}/deactivate", {}),
        ("POST", f"/admin/users/{target.id}/reactivate", {}),
        ("GET", f"/admin/users/{target.id}/reset-password", {}),
        ("POST", f"/admin/users/{target.id}/reset-password", {"new_password": "tamarind monsoon lantern 42"}),
        ("GET", "/admin/audit", {}),
    ]


def send(client, method: str, path: str, data: dict):
    return client.get(path) if method == "GET" else client.post_form(path, data)


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_other_roles_are_refused_everywhere(client, login, make_user, db, role):
    target = make_user("keeper", name="Target")
    login(role)
    for method, path, data in admin_requests(target):
        assert send(client, method, path, data).status_code == 403, (method, path)
    db.session.expire_all()
    target = db.session.get(User, target.id)
    unchanged = (target.name, target.role, target.is_active, target.must_change_password)
    assert unchanged == ("Target", "keeper", True, False)
    assert db.session.execute(sa.select(User).where(User.email == "intruder@example.org")).first() is None
    refusals = db.session.execute(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "access_denied")
    ).scalar_one()
    assert refusals == len(admin_requests(target))


def test_anonymous_users_are_sent_to_sign_in(client, make_user, db):
    target = make_user("keeper", name="Target")
    for method, path, data in admin_requests(target):
        response = send(client, method, path, data)
        assert response.status_code == 302, (method, path)
        assert "/login" in response.headers["Location"], (method, path)
    db.session.expire_all()
    assert db.session.get(User, target.id).is_active


def test_every_admin_route_declares_its_permission(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")}
    assert {"admin.users", "admin.audit_log", "admin.new_user", "admin.edit_user"} <= endpoints
    for endpoint in endpoints:
        expected = "audit.view" if endpoint == "admin.audit_log" else "user.manage"
        assert getattr(app.view_functions[endpoint], "permission", None) == expected, endpoint


def test_the_audit_log_is_read_only(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/audit"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
