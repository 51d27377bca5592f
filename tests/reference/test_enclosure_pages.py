"""Enclosure pages: admin create/edit/delete, roles, facility scoping, bad input, stale edits, query counts."""

import re

import pytest
import sqlalchemy as sa

from app.reference.models import Enclosure
from tests import factories
from tests.reference import error_next_to


def _enclosure_count(db) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Enclosure)).scalar_one()


def _reload(db, enclosure_id):
    db.session.expire_all()
    return db.session.get(Enclosure, enclosure_id)


def _form(**changes) -> dict:
    data = {"code": "Q-01", "name": "Quarantine pen 1", "section": "Quarantine block A", "kind": "pen",
            "capacity": "4", "is_quarantine": "y"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_admin_creates_edits_and_deletes_an_enclosure(client, login, db, facility):
    login("admin")
    assert client.get("/enclosures/new").status_code == 200

    response = client.post_form("/enclosures/new", _form(facility_id=facility.id))
    assert response.status_code == 302
    enclosure = db.session.execute(sa.select(Enclosure).where(Enclosure.code == "Q-01")).scalar_one()
    assert (enclosure.facility_id, enclosure.capacity, enclosure.is_quarantine) == (facility.id, 4, True)
    assert response.headers["Location"].endswith(f"/enclosures/{enclosure.id}")
    detail = client.get(f"/enclosures/{enclosure.id}", follow_redirects=False).get_data(as_text=True)
    assert "Quarantine pen 1" in detail and "Quarantine block A" in detail

    edit_page = client.get(f"/enclosures/{enclosure.id}/edit").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{enclosure.version}"' in edit_page
    response = client.post_form(f"/enclosures/{enclosure.id}/edit",
                                _form(name="Quarantine pen one", capacity="6", is_quarantine=None,
                                      version=str(enclosure.version)))
    assert response.status_code == 302
    enclosure = _reload(db, enclosure.id)
    assert (enclosure.name, enclosure.capacity, enclosure.is_quarantine) == ("Quarantine pen one", 6, False)
    assert "The changes to enclosure Q-01 are saved." in client.get(response.headers["Location"]).get_data(as_text=True)

    response = client.post_form(f"/enclosures/{enclosure.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/enclosures")
    assert _reload(db, enclosure.id) is None


@pytest.mark.parametrize("role", ["viewer", "keeper", "vet", "coordinator"])
def test_only_admins_manage_enclosures(client, login, db, facility, role):
    enclosure = factories.EnclosureFactory(facility=facility)
    login(role)
    assert client.get("/enclosures").status_code == 200
    assert client.get(f"/enclosures/{enclosure.id}").status_code == 200
    assert client.get("/enclosures/new").status_code == 403
    assert client.get(f"/enclosures/{enclosure.id}/edit").status_code == 403
    assert client.post_form("/enclosures/new", _form(facility_id=facility.id)).status_code == 403
    assert client.post_form(f"/enclosures/{enclosure.id}/edit",
                            _form(version=str(enclosure.version))).status_code == 403
    assert client.post_form(f"/enclosures/{enclosure.id}/delete").status_code == 403
    assert _reload(db, enclosure.id).code == enclosure.code
    assert _enclosure_count(db) == 1
    html = client.get(f"/enclosures/{enclosure.id}").get_data(as_text=True)
    assert "/delete" not in html and "/edit" not in html


def test_anonymous_is_sent_to_sign_in(client, db, facility):
    enclosure = factories.EnclosureFactory(facility=facility)
    for path in ("/enclosures", f"/enclosures/{enclosure.id}", "/enclosures/new", f"/enclosures/{enclosure.id}/edit"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    response = client.post_form(f"/enclosures/{enclosure.id}/delete")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _enclosure_count(db) == 1


def test_keeper_sees_only_the_enclosures_of_their_facility(client, login, db, facility, other_facility):
    mine = factories.EnclosureFactory(facility=facility, code="MINE-1", name="Bear house")
    theirs = factories.EnclosureFactory(facility=other_facility, code="THEIRS-1", name="Hornbill aviary")
    login("keeper")  # of `facility`
    assert client.get(f"/enclosures/{theirs.id}").status_code == 404
    assert client.get(f"/enclosures/{mine.id}").status_code == 200
    html = client.get("/enclosures").get_data(as_text=True)
    assert "MINE-1" in html
    assert "THEIRS-1" not in html and "Hornbill aviary" not in html
    # Asking for the other facility by id shows nothing of it either.
    html = client.get(f"/enclosures?facility_id={other_facility.id}").get_data(as_text=True)
    assert "THEIRS-1" not in html


def test_admin_of_one_facility_cannot_reach_another(client, login, db, facility, other_facility):
    theirs = factories.EnclosureFactory(facility=other_facility)
    login("admin", facilities=[facility])
    assert client.get(f"/enclosures/{theirs.id}/edit").status_code == 404
    assert client.post_form(f"/enclosures/{theirs.id}/delete").status_code == 404
    # The facility choice is limited to the admin's facilities.
    page = client.get("/enclosures/new").get_data(as_text=True)
    assert f'value="{facility.id}"' in page and f'value="{other_facility.id}"' not in page
    response = client.post_form("/enclosures/new", _form(facility_id=other_facility.id))
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert _enclosure_count(db) == 1


def test_list_filters_by_facility_and_quarantine_and_marks_quarantine(client, login, db, facility, other_facility):
    factories.EnclosureFactory(facility=facility, code="QA-1", section="Quarantine block A", is_quarantine=True)
    factories.EnclosureFactory(facility=facility, code="BEAR-1", section="Bears")
    factories.EnclosureFactory(facility=other_facility, code="KK-1", section="Release pens")
    login("admin")

    html = client.get("/enclosures").get_data(as_text=True)
    assert all(code in html for code in ("QA-1", "BEAR-1", "KK-1"))
    assert html.count('data-testid="quarantine"') == 1
    assert html.count('data-testid="facility-group"') == 2
    assert "Quarantine block A" in html and "Release pens" in html

    html = client.get("/enclosures?quarantine=1").get_data(as_text=True)
    assert "QA-1" in html and "BEAR-1" not in html and "KK-1" not in html

    html = client.get(f"/enclosures?facility_id={other_facility.id}").get_data(as_text=True)
    assert "KK-1" in html and "QA-1" not in html and "BEAR-1" not in html


def test_list_is_paginated(client, login, db, facility):
    factories.EnclosureFactory.create_batch(3, facility=facility)
    login("admin")
    html = client.get("/enclosures?per_page=2").get_data(as_text=True)
    assert html.count('data-testid="enclosure-row"') == 2
    assert "Page 1 of 2" in html
    html = client.get("/enclosures?per_page=2&page=2").get_data(as_text=True)
    assert html.count('data-testid="enclosure-row"') == 1


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"code": "TAKEN"}, "code", "This facility already has an enclosure with this code."),
    ({"capacity": "-3"}, "capacity", "Capacity cannot be negative."),
    ({"capacity": "lots"}, "capacity", "Not a valid integer value."),
    ({"kind": "spaceship"}, "kind", "Not a valid choice."),
    ({"name": ""}, "name", "This field is required."),
])
def test_bad_input_re_renders_with_the_error_and_what_was_typed(client, login, db, facility, changes, field,
                                                                message):
    factories.EnclosureFactory(facility=facility, code="TAKEN")
    login("admin")
    data = _form(facility_id=facility.id, section="Typed section")
    data.update(changes)
    response = client.post_form("/enclosures/new", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The message sits next to its field, and the typed values are kept.
    assert error_next_to(html, field, message)
    assert 'value="Typed section"' in html
    if field != "code":
        assert f'value="{data["code"]}"' in html
    assert _enclosure_count(db) == 1


def test_duplicate_code_on_edit_is_refused_and_nothing_changes(client, login, db, facility):
    factories.EnclosureFactory(facility=facility, code="A-1")
    other = factories.EnclosureFactory(facility=facility, code="B-1", name="Before")
    login("admin")
    response = client.post_form(f"/enclosures/{other.id}/edit",
                                _form(code="A-1", name="After", version=str(other.version)))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "This facility already has an enclosure with this code." in html
    assert 'value="After"' in html
    assert (_reload(db, other.id).code, _reload(db, other.id).name) == ("B-1", "Before")


def test_the_same_code_is_fine_at_another_facility(client, login, db, facility, other_facility):
    factories.EnclosureFactory(facility=other_facility, code="SHARED")
    login("admin")
    assert client.post_form("/enclosures/new", _form(facility_id=facility.id, code="SHARED")).status_code == 302
    assert _enclosure_count(db) == 2


def test_stale_version_is_refused_and_nothing_is_overwritten(client, login, db, facility):
    enclosure = factories.EnclosureFactory(facility=facility, code="C-1", name="Original", capacity=5)
    login("admin")
    stale = enclosure.version
    # Someone else saves first.
    response = client.post_form(f"/enclosures/{enclosure.id}/edit",
                                _form(code="C-1", name="Their name", capacity="8", version=str(stale)))
    assert response.status_code == 302
    current = _reload(db, enclosure.id)
    assert current.version != stale

    response = client.post_form(f"/enclosures/{enclosure.id}/edit",
                                _form(code="C-1", name="My name", capacity="2", version=str(stale)))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed by someone else" in html
    assert 'value="My name"' in html  # what I typed is kept
    assert "Their name" in html  # and the current values are shown
    assert f'name="version" type="hidden" value="{current.version}"' in html
    current = _reload(db, enclosure.id)
    assert (current.name, current.capacity) == ("Their name", 8)


def test_missing_version_is_treated_as_a_conflict(client, login, db, facility):
    enclosure = factories.EnclosureFactory(facility=facility, name="Original")
    login("admin")
    response = client.post_form(f"/enclosures/{enclosure.id}/edit", _form(name="Changed"))
    assert response.status_code == 409
    assert _reload(db, enclosure.id).name == "Original"


def test_delete_of_an_enclosure_in_use_is_refused_without_an_error_page(client, login, db, facility):
    enclosure = factories.EnclosureFactory(facility=facility)
    case = factories.CaseFactory(facility=facility)
    factories.AnimalFactory(case=case, enclosure_id=enclosure.id)
    login("admin")
    response = client.post_form(f"/enclosures/{enclosure.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/enclosures/{enclosure.id}")
    assert "cannot be deleted" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _reload(db, enclosure.id) is not None


def test_pages_have_no_inline_script_or_style(client, login, db, facility):
    enclosure = factories.EnclosureFactory(facility=facility, is_quarantine=True)
    login("admin")
    for path in ("/enclosures", f"/enclosures/{enclosure.id}", "/enclosures/new", f"/enclosures/{enclosure.id}/edit"):
        html = client.get(path).get_data(as_text=True)
        assert "style=" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert "table-responsive" in html or "<form" in html


def test_delete_button_asks_for_confirmation_and_carries_csrf(client, login, db, facility):
    enclosure = factories.EnclosureFactory(facility=facility)
    login("admin")
    html = client.get(f"/enclosures/{enclosure.id}").get_data(as_text=True)
    form = re.search(rf'<form method="post" action="/enclosures/{enclosure.id}/delete".*?</form>', html, re.S).group(0)
    assert 'name="csrf_token"' in form and "data-confirm=" in form


def test_enclosure_list_query_count_is_the_same_for_1_and_50(client, login, db, facility, other_facility,
                                                             count_queries):
    login("admin")
    factories.EnclosureFactory(facility=facility)
    with count_queries() as one:
        assert client.get("/enclosures").status_code == 200
    for index in range(49):
        factories.EnclosureFactory(facility=facility if index % 2 else other_facility,
                                   section=f"Section {index % 5}", is_quarantine=index % 3 == 0)
    with count_queries() as fifty:
        html = client.get("/enclosures").get_data(as_text=True)
    assert html.count('data-testid="enclosure-row"') == 50
    assert one.count == fifty.count, f"1 enclosure: {one!r}\n50 enclosures: {fifty!r}"


def test_a_write_that_loses_the_race_is_a_conflict_not_an_error(client, login, db, facility, monkeypatch):
    """The row changed between our version check and our UPDATE (SQLAlchemy's own version check)."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.reference import services

    enclosure = factories.EnclosureFactory(facility=facility, name="Original")
    login("admin")

    def lose_the_race(*_args, **_kwargs):
        raise StaleDataError("UPDATE statement on table 'enclosures' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(services, "update_enclosure", lose_the_race)
    response = client.post_form(f"/enclosures/{enclosure.id}/edit",
                                _form(name="Mine", version=str(enclosure.version)))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed by someone else" in html and 'value="Mine"' in html
    assert _reload(db, enclosure.id).name == "Original"


def test_a_duplicate_saved_meanwhile_is_a_form_error_not_an_error_page(client, login, db, facility, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from app.reference import services

    login("admin")

    def clash(**_values):
        raise IntegrityError("INSERT INTO enclosures ...", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(services, "create_enclosure", clash)
    response = client.post_form("/enclosures/new", _form(facility_id=facility.id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "clashes with a record saved a moment ago" in html and 'value="Quarantine pen 1"' in html
    assert _enclosure_count(db) == 0
