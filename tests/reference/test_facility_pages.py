"""Facility pages: the list by membership, admin create and edit, bad input, stale edits."""

import pytest
import sqlalchemy as sa

from app.auth.models import Facility
from tests.reference import error_next_to


def _reload(db, facility_id):
    db.session.expire_all()
    return db.session.get(Facility, facility_id)


def _form(**changes) -> dict:
    data = {"code": "sre", "name": "Siem Reap station", "kind": "release_station", "province": "Siem Reap",
            "timezone": "Asia/Phnom_Penh"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_list_shows_only_the_users_facilities(client, login, facility, other_facility):
    login("keeper")  # of `facility`
    html = client.get("/facilities").get_data(as_text=True)
    assert "Phnom Tamao" in html and "Koh Kong" not in html
    assert "/facilities/new" not in html


def test_network_wide_admin_sees_every_facility(client, login, facility, other_facility):
    login("admin")
    html = client.get("/facilities").get_data(as_text=True)
    assert "Phnom Tamao" in html and "Koh Kong" in html


def test_admin_creates_and_edits_a_facility(client, login, db):
    login("admin")
    assert client.get("/facilities/new").status_code == 200
    response = client.post_form("/facilities/new", _form())
    assert response.status_code == 302
    created = db.session.execute(sa.select(Facility).where(Facility.code == "SRE")).scalar_one()
    assert (created.kind, created.province) == ("release_station", "Siem Reap")

    edit_page = client.get(f"/facilities/{created.id}/edit").get_data(as_text=True)
    assert 'name="code"' not in edit_page  # the code is fixed once created
    response = client.post_form(f"/facilities/{created.id}/edit",
                                _form(code=None, name="Siem Reap release station", timezone="Asia/Bangkok",
                                      version=str(created.version)))
    assert response.status_code == 302
    created = _reload(db, created.id)
    assert (created.code, created.name, created.timezone) == ("SRE", "Siem Reap release station", "Asia/Bangkok")


@pytest.mark.parametrize("role", ["viewer", "keeper", "vet", "coordinator"])
def test_only_admins_manage_facilities(client, login, db, facility, role):
    login(role)
    assert client.get("/facilities").status_code == 200
    assert client.get("/facilities/new").status_code == 403
    assert client.post_form("/facilities/new", _form()).status_code == 403
    assert client.get(f"/facilities/{facility.id}/edit").status_code == 403
    response = client.post_form(f"/facilities/{facility.id}/edit", _form(code=None, version=str(facility.version)))
    assert response.status_code == 403
    assert _reload(db, facility.id).name == "Phnom Tamao"


def test_anonymous_is_sent_to_sign_in(client, facility):
    for path in ("/facilities", "/facilities/new", f"/facilities/{facility.id}/edit"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"code": "ptk"}, "code", "A facility with this code already exists."),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Unknown time zone"),
    ({"kind": "zoo"}, "kind", "Must be one of:"),
])
def test_bad_input_re_renders_with_the_error(client, login, db, facility, changes, field, message):
    login("admin")
    before = db.session.execute(sa.select(sa.func.count()).select_from(Facility)).scalar_one()
    response = client.post_form("/facilities/new", _form(**changes))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert error_next_to(html, field, message)
    assert 'value="Siem Reap station"' in html
    assert db.session.execute(sa.select(sa.func.count()).select_from(Facility)).scalar_one() == before


def test_stale_version_is_refused(client, login, db, facility):
    login("admin")
    stale = facility.version
    assert client.post_form(f"/facilities/{facility.id}/edit",
                            _form(code=None, name="First", version=str(stale))).status_code == 302
    response = client.post_form(f"/facilities/{facility.id}/edit",
                                _form(code=None, name="Second", version=str(stale)))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed by someone else" in html and 'value="Second"' in html
    assert _reload(db, facility.id).name == "First"


def test_admin_of_one_facility_gets_404_for_another(client, login, facility, other_facility):
    login("admin", facilities=[facility])
    assert client.get(f"/facilities/{other_facility.id}/edit").status_code == 404
