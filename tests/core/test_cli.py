"""The command line of API.md: users, facilities, seeding."""

import sqlalchemy as sa

from app.auth.models import Facility, User
from app.care.models import CareSchedule, CareTask
from app.common.audit import AuditEvent
from app.reference.models import Species
from app.reference.seed import read_species_file


def test_facilities_and_users_are_created_without_prompts(runner, db):
    result = runner.invoke(args=["facilities", "create", "--code", "ptk", "--name", "Phnom Tamao",
                                 "--timezone", "Asia/Phnom_Penh"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "--email", "Keeper@Example.org", "--name", "Vuthy",
                                 "--role", "keeper", "--password", "long enough secret", "--facility", "PTK"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(sa.select(User).where(User.email == "keeper@example.org")).scalar_one()
    assert [f.code for f in user.facilities] == ["PTK"]
    actors = db.session.execute(sa.select(AuditEvent.actor).where(AuditEvent.entity_type == "User")).scalars().all()
    assert actors == ["cli"]
    listing = runner.invoke(args=["users", "list"]).output
    assert "keeper@example.org" in listing and "PTK" in listing


def test_bad_cli_input_is_a_clear_error(runner, db):
    result = runner.invoke(args=["users", "create", "--email", "a@example.org", "--name", "A", "--role", "vet",
                                 "--password", "short", "--facility", "NOPE"])
    assert result.exit_code != 0
    assert "NOPE" in result.output
    result = runner.invoke(args=["users", "create", "--email", "a@example.org", "--name", "A", "--role", "vet",
                                 "--password", "password123"])
    assert result.exit_code != 0
    assert "common passwords" in result.output
    result = runner.invoke(args=["facilities", "create", "--code", "X", "--name", "X", "--timezone", "Mars/Base"])
    assert result.exit_code != 0 and "time zone" in result.output


def test_deactivate_user(runner, make_user, db):
    user = make_user("keeper")
    result = runner.invoke(args=["users", "deactivate", "--email", user.email])
    assert result.exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, user.id).is_active is False


def test_seed_species_loads_the_catalogue_and_is_idempotent(runner, db):
    rows = read_species_file()
    assert len(rows) >= 80
    first = runner.invoke(args=["seed", "species"])
    assert f"{len(rows)} created, 0 updated" in first.output
    second = runner.invoke(args=["seed", "species"])
    assert "0 created, 0 updated" in second.output
    assert db.session.execute(sa.select(sa.func.count()).select_from(Species)).scalar() == len(rows)


def test_species_file_covers_the_groups_seized_in_cambodia():
    rows = read_species_file()
    classes = {row["taxon_class"] for row in rows}
    assert {"mammal", "bird", "reptile"} <= classes
    names = " ".join(row["common_name_en"].lower() for row in rows)
    for group in ("macaque", "loris", "gibbon", "bear", "pangolin", "civet", "binturong", "otter", "hornbill",
                  "parakeet", "myna", "owl", "peafowl", "stork", "turtle", "tortoise", "python", "cobra",
                  "monitor", "crocodile"):
        assert group in names, group
    assert sum(1 for row in rows if row["common_name_km"]) >= 40


def test_seed_demo_is_idempotent(runner, db):
    assert "Demo data created" in runner.invoke(args=["seed", "demo"]).output
    assert "already present" in runner.invoke(args=["seed", "demo"]).output
    assert db.session.execute(sa.select(sa.func.count()).select_from(Facility)).scalar() == 1
    roles = set(db.session.execute(sa.select(User.role)).scalars())
    assert roles == {"admin", "coordinator", "vet", "keeper", "viewer"}
    # The demo seizure's animals got their class's schedules (4), the enclosures' cleanings (3), the
    # macaque its meloxicam course (1), and the round has tasks at once.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CareSchedule)) == 4 + 3 + 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CareTask)) > 0
