"""The animal list and the animal record page."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.animals import services
from app.animals.models import Animal, HousingMove
from tests import factories


@pytest.fixture
def herd(db, case, species, quarantine, facility):
    run = factories.EnclosureFactory(facility=facility, code="P-01")
    animals = services.admit_animals(case, [
        {"species_id": species["turtle"].id, "quantity": 50, "enclosure_id": quarantine.id},
        {"species_id": species["macaque"].id, "name": "Srey", "enclosure_id": run.id,
         "identifiers": [{"kind": "microchip", "value": "985112000777"}]},
        {"species_id": species["pangolin"].id, "enclosure_id": quarantine.id},
    ], user=None)
    return {"lot": animals[0], "macaque": animals[1], "pangolin": animals[2], "run": run}


def _cleared(db, *animals):
    """A vet cleared these animals' quarantine, so they may leave a quarantine enclosure freely."""
    for animal in animals:
        animal.quarantine_cleared_on = date(2026, 1, 1)
    db.session.commit()


def _rows(client, query=""):
    return client.get(f"/animals{query}").get_data(as_text=True).count('data-testid="animal-row"')


def test_list_filters_and_search(client, login, herd, species, quarantine, db):
    _cleared(db, herd["macaque"])  # "in quarantine" is "not cleared by a vet", wherever it is housed
    login("keeper")
    assert _rows(client) == 3
    assert _rows(client, f"?species_id={species['macaque'].id}") == 1
    assert _rows(client, f"?enclosure_id={quarantine.id}") == 2
    assert _rows(client, "?quarantine=1") == 2
    assert _rows(client, "?quarantine=0") == 1
    assert _rows(client, "?q=Srey") == 1
    assert _rows(client, "?q=985112000777") == 1
    assert _rows(client, f"?q={herd['lot'].accession_number}") == 1
    assert _rows(client, "?q=pangolin") == 1
    assert _rows(client, "?held=1") == 0
    assert _rows(client, "?status=left_care") == 0
    html = client.get("/animals?sort=quantity").get_data(as_text=True)
    assert html.index(herd["lot"].accession_number) < html.index(herd["macaque"].accession_number)


def test_record_page_shows_header_timeline_and_hold_banner(client, login, herd, case, db):
    login("vet")
    macaque = herd["macaque"]
    html = client.get(f"/animals/{macaque.id}").get_data(as_text=True)
    assert macaque.accession_number in html and "Long-tailed macaque" in html
    assert 'data-testid="timeline"' in html and "Admitted" in html
    assert 'data-testid="hold-banner"' not in html
    services.set_evidence_hold(case, active=True, reason="court case", user=None)
    db.session.commit()
    html = client.get(f"/animals/{macaque.id}").get_data(as_text=True)
    assert 'data-testid="hold-banner"' in html and case.reference in html
    assert "Evidence hold set" in html


def test_other_facility_gets_404_and_sees_nothing(client, login, herd, other_facility):
    login("keeper", facilities=[other_facility])
    assert client.get(f"/animals/{herd['macaque'].id}").status_code == 404
    assert _rows(client) == 0


@pytest.mark.parametrize("role", ["viewer", "vet"])  # the vet's rows carry move checkboxes
def test_list_query_count_is_the_same_for_1_and_50_animals(client, login, db, case, species, count_queries, role):
    login(role)
    factories.AnimalFactory(case=case, species=species["turtle"])
    client.get("/animals")
    with count_queries() as one:
        client.get("/animals")
    for _ in range(49):
        factories.AnimalFactory(case=case, species=species["turtle"])
    with count_queries() as fifty:
        assert _rows(client) == 50
    assert one.count == fifty.count


def test_record_query_count_is_the_same_for_1_and_50_moves(client, login, herd, quarantine, count_queries, db):
    login("viewer")
    macaque = herd["macaque"]
    _cleared(db, macaque)
    client.get(f"/animals/{macaque.id}")
    with count_queries() as few:
        client.get(f"/animals/{macaque.id}")
    for n in range(25):
        services.move_animals([macaque], quarantine, reason=f"check {n}", user=None)
        services.move_animals([macaque], herd["run"], reason=f"back {n}", user=None)
    with count_queries() as many:
        html = client.get(f"/animals/{macaque.id}").get_data(as_text=True)
    assert html.count("back 2") >= 1
    assert few.count == many.count


def _edit_form(animal, **changes):
    return {"name": animal.name, "sex": animal.sex, "age_class": animal.age_class,
            "intake_condition": animal.intake_condition, "intake_weight_g": "", "releasability": animal.releasability,
            "releasability_reason": "", "notes": "", "version": str(animal.version), **changes}


def test_edit_saves_and_a_stale_version_is_refused_keeping_what_was_typed(client, login, herd, db):
    login("coordinator")
    macaque = herd["macaque"]
    response = client.post_form(f"/animals/{macaque.id}/edit", _edit_form(macaque, name="Srey Mom"))
    assert response.status_code == 302
    db.session.expire_all()
    assert macaque.name == "Srey Mom"
    stale = client.post_form(f"/animals/{macaque.id}/edit", _edit_form(macaque, name="Other", version="1"))
    assert stale.status_code == 409
    assert 'value="Other"' in stale.get_data(as_text=True)
    db.session.expire_all()
    assert macaque.name == "Srey Mom"
    resident = client.post_form(f"/animals/{macaque.id}/edit",
                                _edit_form(macaque, releasability="non_releasable"))
    assert resident.status_code == 422 and "never be released" in resident.get_data(as_text=True)


def test_roles_for_edit_move_and_split(client, login, herd):
    lot = herd["lot"]
    login("keeper")
    for path in (f"/animals/{lot.id}/edit", f"/animals/{lot.id}/move", f"/animals/{lot.id}/split", "/animals/move"):
        assert client.post_form(path, {"animal_ids": str(lot.id)}).status_code == 403


def test_vet_moves_one_animal_and_bulk_moves_several(client, login, herd, quarantine, db):
    login("vet")
    macaque, pangolin, run = herd["macaque"], herd["pangolin"], herd["run"]
    _cleared(db, macaque, pangolin)
    page = client.get(f"/animals/{macaque.id}/move").get_data(as_text=True)
    assert "would be over capacity" not in page.split("P-01")[1].split("</option>")[0]
    response = client.post_form(f"/animals/{macaque.id}/move",
                                {"confirm": "1", "to_enclosure_id": str(quarantine.id), "reason": "check-up"})
    assert response.status_code == 302
    response = client.post_form("/animals/move", {"animal_ids": [str(macaque.id), str(pangolin.id)], "confirm": "1",
                                                  "to_enclosure_id": str(run.id), "reason": "to the run"})
    assert response.status_code == 302
    db.session.expire_all()
    assert macaque.enclosure_id == pangolin.enclosure_id == run.id


def test_bulk_move_of_an_animal_one_may_not_see_is_404(client, login, herd, other_facility):
    login("vet", facilities=[other_facility])
    assert client.post_form("/animals/move", {"animal_ids": str(herd["macaque"].id)}).status_code == 404


def test_move_page_warns_when_a_move_fills_an_enclosure_past_capacity(client, login, herd, facility):
    tiny = factories.EnclosureFactory(facility=facility, code="TINY", capacity=1)
    login("coordinator")
    page = client.get(f"/animals/{herd['lot'].id}/move").get_data(as_text=True)
    assert "would be over capacity" in page.split("TINY")[1].split("</option>")[0]
    assert tiny.id


def test_split_through_the_page(client, login, herd, db):
    login("vet")
    lot = herd["lot"]
    too_many = client.post_form(f"/animals/{lot.id}/split", {"quantity": "50", "reason": "sick"})
    assert too_many.status_code == 422 and 'value="50"' in too_many.get_data(as_text=True)
    response = client.post_form(f"/animals/{lot.id}/split", {"quantity": "12", "reason": "shell lesions"})
    assert response.status_code == 302
    db.session.expire_all()
    assert lot.quantity == 38


def test_home_page_counts_the_users_facilities_only(client, login, herd, other_facility):
    login("viewer")
    html = client.get("/").get_data(as_text=True)
    census = html.split('data-testid="census"')[1]
    assert ">52<" in census.replace(" ", "") and ">3<" in census.replace(" ", "")
    client.post_form("/logout")
    login("viewer", facilities=[other_facility])
    census = client.get("/").get_data(as_text=True).split('data-testid="census"')[1]
    assert ">52<" not in census.replace(" ", "")


def test_hold_banner_on_every_page_of_a_held_animal(client, login, herd, case, db):
    services.set_evidence_hold(case, active=True, reason="trial", user=None)
    db.session.commit()
    login("coordinator")
    lot = herd["lot"]
    for page in (f"/animals/{lot.id}", f"/animals/{lot.id}/edit", f"/animals/{lot.id}/move",
                 f"/animals/{lot.id}/split"):
        assert 'data-testid="hold-banner"' in client.get(page).get_data(as_text=True), page
    bulk = client.post_form("/animals/move", {"animal_ids": str(lot.id)})
    assert 'data-testid="hold-banner"' in bulk.get_data(as_text=True)


def test_list_filters_by_admission_dates(client, login, herd):
    login("keeper")
    assert _rows(client, "?admitted_from=2000-01-01&admitted_to=2999-12-31") == 3
    assert _rows(client, "?admitted_to=2000-01-01") == 0


def test_list_filters_by_case_status_and_hold_and_sorts_by_accession(client, login, herd, case, facility, db):
    other_case = factories.CaseFactory(facility=facility)
    factories.AnimalFactory(case=other_case, facility=facility, status="died", quantity=0)
    login("keeper")
    assert _rows(client, f"?case_id={case.id}") == 3
    assert _rows(client, f"?case_id={other_case.id}") == 0
    assert _rows(client, f"?case_id={other_case.id}&status=left_care") == 1
    assert _rows(client, f"?case_id={other_case.id}&status=died") == 1
    assert _rows(client, "?status=all") == 4
    services.set_evidence_hold(case, active=True, reason="court case", user=None)
    db.session.commit()
    assert _rows(client, "?held=1") == 3 and _rows(client, "?held=0") == 0
    assert client.get("/animals").get_data(as_text=True).count('data-testid="hold-badge"') == 3
    numbers = sorted(a.accession_number for a in (herd["lot"], herd["macaque"], herd["pangolin"]))
    up = client.get("/animals?sort=accession").get_data(as_text=True)
    down = client.get("/animals?sort=-accession").get_data(as_text=True)
    assert up.index(numbers[0]) < up.index(numbers[2]) and down.index(numbers[2]) < down.index(numbers[0])
    assert "sort=-accession" in up  # the header link flips the order
    assert client.get("/animals?per_page=500&page=0").status_code == 200


def test_record_header_facts_timeline_move_and_hold_lifted(client, login, herd, case, quarantine, db):
    login("vet")
    lot = herd["lot"]
    html = client.get(f"/animals/{lot.id}").get_data(as_text=True)
    assert "50 in care / 50 at intake" in html and 'data-testid="quarantine-badge"' in html
    assert "IUCN" in html and "Amboina box turtle" in html and "Cuora amboinensis" in html
    assert f"/cases/{case.id}" in html  # the case page link
    _cleared(db, lot)
    services.move_animals([lot], herd["run"], reason="out of quarantine", user=None)
    services.set_evidence_hold(case, active=True, reason="court case", user=None)
    db.session.commit()
    html = client.get(f"/animals/{lot.id}").get_data(as_text=True)
    timeline = html.split('data-testid="timeline"')[1].split("</ol>")[0]
    assert "Moved to P-01" in timeline and "out of quarantine" in timeline and "Admitted" in timeline
    assert 'data-testid="quarantine-badge"' not in html and 'data-testid="hold-banner"' in html
    services.set_evidence_hold(case, active=False, reason="verdict", user=None)
    db.session.commit()
    assert 'data-testid="hold-banner"' not in client.get(f"/animals/{lot.id}").get_data(as_text=True)


def test_quick_actions_follow_the_role(client, login, herd):
    lot = herd["lot"]
    login("viewer")
    actions = client.get(f"/animals/{lot.id}").get_data(as_text=True).split('data-testid="quick-actions"')[1]
    assert "/edit" not in actions and "/move" not in actions and "/split" not in actions
    client.post_form("/logout")
    login("coordinator")
    actions = client.get(f"/animals/{lot.id}").get_data(as_text=True).split('data-testid="quick-actions"')[1]
    assert "/edit" in actions and "/move" in actions and "/split" in actions
    macaque = client.get(f"/animals/{herd['macaque'].id}").get_data(as_text=True)
    assert f"/animals/{herd['macaque'].id}/split" not in macaque  # an individual cannot be split


def test_viewer_may_not_post_edits_moves_or_splits(client, login, herd):
    lot = herd["lot"]
    login("viewer")
    for path in (f"/animals/{lot.id}/edit", f"/animals/{lot.id}/move", f"/animals/{lot.id}/split", "/animals/move"):
        assert client.post_form(path, {"animal_ids": str(lot.id)}).status_code == 403, path


def test_a_second_save_after_a_conflict_overwrites_deliberately(client, login, herd, db):
    login("coordinator")
    macaque = herd["macaque"]
    old_version = str(macaque.version)
    services.update_animal(macaque, {"name": "Changed elsewhere"})
    db.session.commit()
    stale = client.post_form(f"/animals/{macaque.id}/edit", _edit_form(macaque, name="Mine", version=old_version))
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and 'data-testid="conflict"' in html
    assert "Changed elsewhere" in html and 'value="Mine"' in html
    db.session.expire_all()
    again = client.post_form(f"/animals/{macaque.id}/edit", _edit_form(macaque, name="Mine"))
    assert again.status_code == 302
    db.session.expire_all()
    assert macaque.name == "Mine"


def test_bulk_move_records_a_housing_move_for_each_animal(client, login, herd, db):
    login("vet")
    lot, pangolin, run = herd["lot"], herd["pangolin"], herd["run"]
    _cleared(db, lot, pangolin)
    confirm = client.post_form("/animals/move", {"animal_ids": [str(lot.id), str(pangolin.id)]})
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.get_data(as_text=True)
    before = db.session.scalar(sa.select(sa.func.count(HousingMove.id)))
    response = client.post_form("/animals/move", {"animal_ids": [str(lot.id), str(pangolin.id)], "confirm": "1",
                                                  "to_enclosure_id": str(run.id), "reason": "cleaning Q-1"})
    assert response.status_code == 302
    moves = db.session.scalars(sa.select(HousingMove).where(HousingMove.reason == "cleaning Q-1")).all()
    assert {m.animal_id for m in moves} == {lot.id, pangolin.id} and all(m.to_enclosure_id == run.id for m in moves)
    assert db.session.scalar(sa.select(sa.func.count(HousingMove.id))) == before + 2
    nothing = client.post_form("/animals/move", {})
    assert nothing.status_code == 302


def test_move_past_capacity_is_warned_not_refused(client, login, herd, facility, db):
    tiny = factories.EnclosureFactory(facility=facility, code="TINY", capacity=10)
    login("vet")
    lot = herd["lot"]
    _cleared(db, lot)
    response = client.post_form(f"/animals/{lot.id}/move", {"confirm": "1", "to_enclosure_id": str(tiny.id),
                                                            "reason": "overflow"}, )
    assert response.status_code == 302
    assert "over its capacity" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert lot.enclosure_id == tiny.id
    missing = client.post_form(f"/animals/{lot.id}/move", {"confirm": "1", "reason": "no target"})
    assert missing.status_code == 422 and "Choose an enclosure" in missing.get_data(as_text=True)


def test_split_links_parent_and_sub_lot(client, login, herd, db):
    login("coordinator")
    lot = herd["lot"]
    response = client.post_form(f"/animals/{lot.id}/split", {"quantity": "12", "enclosure_id": str(herd["run"].id),
                                                             "reason": "to the clinic"})
    child_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    child = db.session.get(Animal, child_id)
    assert child.quantity == 12 and child.parent_id == lot.id and child.enclosure_id == herd["run"].id
    child_page = client.get(f"/animals/{child_id}").get_data(as_text=True)
    assert lot.accession_number in child_page and "Split from" in child_page
    parent_page = client.get(f"/animals/{lot.id}").get_data(as_text=True)
    assert child.accession_number in parent_page.split('data-testid="sub-lots"')[1].split("</div>")[0]
    assert "38 in care / 50 at intake" in parent_page
    bad = client.post_form(f"/animals/{lot.id}/split", {"quantity": "x", "reason": "typo"})
    assert bad.status_code == 422 and 'value="typo"' in bad.get_data(as_text=True)
