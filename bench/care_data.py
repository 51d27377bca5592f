"""Daily-care data sets for the benchmarks: facilities, enclosures, animals, schedules, logs and tasks.

make_dataset() fills the current app's database (inside an app context) with Core bulk
inserts in chunks, so the S data set (2,000 animals, 200,000 care logs) builds in
seconds. Every count is a parameter, so a larger one is the same call:

    make_dataset("S")                                  # 2,000 animals, 200,000 logs
    make_dataset("M")                                  # 50,000 animals, 5,000,000 logs, ~1,000,000 tasks
    make_dataset(animals=10_000, care_logs=1_000_000)  # anything between

Today's and tomorrow's tasks are made by app.care.services.generate_care_tasks(now),
the scheduler's own code; tasks of earlier days (past_task_days) are bulk-inserted as
done. Of today's tasks already due, most are completed with a care log linked to the
task, the rest stay open (some overdue), as in a real round at the time it runs.
All datetimes are aware, in UTC.
"""

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text

from app.animals.models import Animal, Case
from app.auth.models import Facility, User, user_facilities
from app.auth.passwords import hash_password
from app.care.models import CareLog, CareSchedule, CareTask, TaskStatus
from app.care.services import generate_care_tasks
from app.common.db import utcnow
from app.common.text import fold
from app.extensions import db
from app.reference.models import Enclosure, Species

PASSWORD = "bench password 123"
TIMEZONE = "Asia/Phnom_Penh"
FEED_TIMES = ["08:00", "15:00"]
CLEAN_TIMES = ["09:00"]
CHUNK = 5000

SIZES = {
    "S": {"facilities": 1, "enclosures": 40, "animals": 2_000, "care_logs": 200_000, "days": 50,
          "past_task_days": 0},
    # ~1,000,000 tasks: 50,000 animals x 2 feeds x (9 past days + today + tomorrow) + cleans.
    "M": {"facilities": 4, "enclosures": 1_000, "animals": 50_000, "care_logs": 5_000_000, "days": 50,
          "past_task_days": 9},
}

SPECIES = [  # (scientific name, common name, class, lot size range; 0 = individuals only)
    ("Cyclemys dentata", "Asian leaf turtle", "reptile", (5, 60)),
    ("Ptyas korros", "Indo-Chinese rat snake", "reptile", (5, 120)),
    ("Heosemys grandis", "Giant Asian pond turtle", "reptile", (3, 25)),
    ("Manis javanica", "Sunda pangolin", "mammal", (0, 0)),
    ("Macaca fascicularis", "Long-tailed macaque", "mammal", (0, 0)),
    ("Nycticebus pygmaeus", "Pygmy slow loris", "mammal", (0, 0)),
    ("Leptoptilos javanicus", "Lesser adjutant", "bird", (0, 0)),
]
SECTIONS = ["Carnivores", "Primates", "Reptiles", "Birds", "Quarantine"]


def _bulk(model, rows: list[dict]) -> None:
    """Core INSERT of rows in chunks (executemany), without the ORM's per-object cost or audit."""
    # The Table, not the mapped class: insert(Model) would go through the ORM's bulk path.
    table = model if hasattr(model, "c") else model.__table__
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(table), rows[start:start + CHUNK])


def _ids(model, column, values) -> dict:
    """{natural key: id} for rows just inserted (ids are given by the database)."""
    return dict(db.session.execute(select(column, model.id).where(column.in_(list(values)))).all())


def _local(day, hhmm: str, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz).astimezone(UTC)


def make_dataset(size: str = "S", *, facilities: int | None = None, enclosures: int | None = None,
                 animals: int | None = None, care_logs: int | None = None, days: int | None = None,
                 past_task_days: int | None = None, keepers: int = 20, now: datetime | None = None,
                 seed: int = 7) -> dict:
    """Fill the (empty, migrated) database of the current app context; commits. Returns what was made.

    The returned dict has the keeper emails (PASSWORD for all), facility and animal ids and counts.
    """
    preset = SIZES[size]
    facilities = facilities or preset["facilities"]
    enclosures = enclosures or preset["enclosures"]
    animals = animals or preset["animals"]
    care_logs = preset["care_logs"] if care_logs is None else care_logs
    days = days or preset["days"]
    past_task_days = preset["past_task_days"] if past_task_days is None else past_task_days
    now = now or utcnow()
    rng = random.Random(seed)
    tz = ZoneInfo(TIMEZONE)
    created = now - timedelta(days=days + 30)
    stamps = {"created_at": created, "updated_at": created, "version": 1}

    # --- reference: facilities, species, enclosures, users ---------------------------------
    _bulk(Facility, [{"code": f"BF{f:02d}", "name": f"Bench rescue centre {f}", "kind": "rescue_centre",
                      "province": "Takeo", "timezone": TIMEZONE, "is_active": True, **stamps}
                     for f in range(facilities)])
    facility_ids = list(_ids(Facility, Facility.code, [f"BF{f:02d}" for f in range(facilities)]).values())
    facility_ids.sort()
    _bulk(Species, [{"scientific_name": sci, "common_name_en": en, "common_name_km": "",
                     "search_text": fold(f"{sci} | {en} | "), "taxon_class": cls, "iucn_status": "VU",
                     "cites_appendix": "II", "kh_category": "rare", "quarantine_days": 30, "zoonosis_note": "",
                     **stamps} for sci, en, cls, _ in SPECIES])
    species_ids = _ids(Species, Species.scientific_name, [s[0] for s in SPECIES])
    enclosure_rows = [{"facility_id": facility_ids[e % facilities], "code": f"E{e:04d}", "name": f"Enclosure {e}",
                       "section": SECTIONS[e % len(SECTIONS)], "kind": "cage", "capacity": 200,
                       "is_quarantine": SECTIONS[e % len(SECTIONS)] == "Quarantine", "is_active": True, **stamps}
                      for e in range(enclosures)]
    _bulk(Enclosure, enclosure_rows)
    enclosure_list = db.session.execute(select(Enclosure.id, Enclosure.facility_id).order_by(Enclosure.id)).all()
    password_hash = hash_password(PASSWORD)
    users = [{"email": f"keeper{k}@bench.example.org", "name": f"Keeper {k}", "role": "keeper",
              "is_active": True, "password_hash": password_hash, "must_change_password": False, **stamps}
             for k in range(keepers)]
    users.append({"email": "coordinator@bench.example.org", "name": "Coordinator", "role": "coordinator",
                  "is_active": True, "password_hash": password_hash, "must_change_password": False, **stamps})
    _bulk(User, users)
    user_ids = _ids(User, User.email, [u["email"] for u in users])
    keeper_ids = [user_ids[f"keeper{k}@bench.example.org"] for k in range(keepers)]
    # Keeper k works at facility k % facilities (keeper0 at the first).
    _bulk(user_facilities, [{"user_id": uid, "facility_id": facility_ids[k % facilities]}
                            for k, uid in enumerate(keeper_ids)])

    # --- cases and animals: one case per 50 animals, in the animals' facility ----------------
    # Animal a lives in enclosure a % enclosures, so at that enclosure's facility.
    per_case = 50
    case_rows = []
    for c in range((animals + per_case - 1) // per_case):
        occurred = now - timedelta(days=days + 20) + timedelta(hours=c % 400)
        case_rows.append({"reference": f"B-{c:07d}", "facility_id": enclosure_list[(c * per_case) % enclosures][1],
                          "occurred_at": occurred, "source": "enforcement_seizure", "agency": "Forestry Administration",
                          "evidence_hold": False, **stamps})
    _bulk(Case, case_rows)
    case_ids = _ids(Case, Case.reference, [r["reference"] for r in case_rows])
    animal_rows = []
    for a in range(animals):
        sci, _, _, (low, high) = SPECIES[a % len(SPECIES)]
        quantity = rng.randint(low, high) if high and a % 3 == 0 else 1  # a lot every so often
        enclosure_id, facility_id = enclosure_list[a % enclosures]
        case = case_rows[a // per_case]
        animal_rows.append({
            "accession_number": f"B{a:08d}", "case_id": case_ids[case["reference"]],
            "species_id": species_ids[sci], "facility_id": facility_id, "enclosure_id": enclosure_id,
            "name": "", "sex": "mixed" if quantity > 1 else "unknown", "age_class": "unknown",
            "intake_condition": "fair", "intake_quantity": quantity, "quantity": quantity, "status": "in_care",
            "releasability": "undetermined", "releasability_reason": "", "notes": "",
            "admitted_at": case["occurred_at"] + timedelta(hours=2), **stamps})
    _bulk(Animal, animal_rows)
    animal_list = db.session.execute(
        select(Animal.id, Animal.facility_id, Animal.enclosure_id).order_by(Animal.id)).all()

    # --- schedules: two feeds per animal, one clean per enclosure ------------------------------
    start_day = (now - timedelta(days=days + 1)).astimezone(tz).date()
    schedule_base = {"template_id": None, "every_days": None, "diet_items": [], "starts_on": start_day,
                     "ends_on": None, "is_active": True, "tasks_from": created, "created_by_id": None, **stamps}
    _bulk(CareSchedule, [{**schedule_base, "facility_id": fid, "animal_id": aid, "enclosure_id": None,
                          "kind": "feed", "times": FEED_TIMES, "instructions": "Fresh water; see diet."}
                         for aid, fid, _ in animal_list])
    _bulk(CareSchedule, [{**schedule_base, "facility_id": fid, "animal_id": None, "enclosure_id": eid,
                          "kind": "clean", "times": CLEAN_TIMES, "instructions": "Scrub, rinse, new substrate."}
                         for eid, fid in enclosure_list])

    # --- care logs of the past days: each animal fed at each feed time, enclosures cleaned --------
    today = now.astimezone(tz).date()
    slots = len(FEED_TIMES)
    per_day = animals * slots + enclosures
    log_rows: list[dict] = []
    made_logs = 0

    def flush_logs():
        nonlocal log_rows, made_logs
        _bulk(CareLog, log_rows)
        made_logs += len(log_rows)
        log_rows = []

    for i in range(care_logs):
        day_index, within = divmod(i, per_day)
        day = today - timedelta(days=1 + day_index % days)
        if within < animals * slots:
            slot, a = divmod(within, animals)
            aid, fid, _ = animal_list[a]
            target = {"animal_id": aid, "enclosure_id": None, "kind": "feed",
                      "eaten": ("all", "all", "most", "half", "little", "none")[rng.randrange(6)]}
            due = _local(day, FEED_TIMES[slot], tz)
        else:
            eid, fid = enclosure_list[within - animals * slots]
            target = {"animal_id": None, "enclosure_id": eid, "kind": "clean", "eaten": None}
            due = _local(day, CLEAN_TIMES[0], tz)
        done_at = due + timedelta(minutes=rng.randrange(-20, 90))
        log_rows.append({"client_id": f"{rng.getrandbits(128):032x}", "facility_id": fid,
                         "task_id": None, "done_at": done_at,
                         "recorded_at": done_at + timedelta(seconds=rng.randrange(5, 600)),
                         "recorded_by_id": keeper_ids[i % len(keeper_ids)], "late_entry": False, "appetite": "",
                         "stool": "", "behaviour": "", "notes": "", "head_count": None, "photo_id": None,
                         **target})
        if len(log_rows) >= CHUNK * 4:
            flush_logs()
    flush_logs()

    # --- tasks: done tasks of past days (bulk), then today's and tomorrow's by the scheduler's code ---
    if past_task_days:
        schedules = db.session.execute(select(CareSchedule.id, CareSchedule.facility_id, CareSchedule.animal_id,
                                              CareSchedule.enclosure_id, CareSchedule.kind,
                                              CareSchedule.times)).all()
        rows: list[dict] = []
        for d in range(past_task_days, 0, -1):
            day = today - timedelta(days=d)
            for sid, fid, aid, eid, kind, times in schedules:
                for hhmm in times:
                    due = _local(day, hhmm, tz)
                    rows.append({"schedule_id": sid, "facility_id": fid, "animal_id": aid, "enclosure_id": eid,
                                 "kind": kind, "due_at": due, "status": TaskStatus.DONE,
                                 "done_at": due + timedelta(minutes=15), "done_by_id": keeper_ids[0]})
                if len(rows) >= CHUNK * 4:
                    _bulk(CareTask, rows)
                    rows = []
        _bulk(CareTask, rows)
    generated = generate_care_tasks(now)

    # Today's round as it stands now: 90% of the tasks already due are done, with their log.
    due_now = db.session.execute(
        select(CareTask.id, CareTask.facility_id, CareTask.animal_id, CareTask.enclosure_id, CareTask.kind,
               CareTask.due_at)
        .where(CareTask.status == TaskStatus.OPEN, CareTask.due_at <= now).order_by(CareTask.id)).all()
    completed = [row for n, row in enumerate(due_now) if n % 10]
    if completed:
        done_by = {tid: keeper_ids[n % len(keeper_ids)] for n, (tid, *_rest) in enumerate(completed)}
        for start in range(0, len(completed), CHUNK):
            part = completed[start:start + CHUNK]
            db.session.execute(
                CareTask.__table__.update()
                .where(CareTask.id.in_([r.id for r in part]))
                .values(status=TaskStatus.DONE, done_at=now - timedelta(minutes=5)))
        task_logs = [{"client_id": f"{rng.getrandbits(128):032x}", "facility_id": r.facility_id,
                      "animal_id": r.animal_id, "enclosure_id": None if r.animal_id else r.enclosure_id,
                      "task_id": r.id, "kind": r.kind, "done_at": min(r.due_at + timedelta(minutes=10), now),
                      "recorded_at": now, "recorded_by_id": done_by[r.id], "late_entry": False,
                      "eaten": "all" if r.kind == "feed" else None, "appetite": "", "stool": "", "behaviour": "",
                      "notes": "", "head_count": None, "photo_id": None} for r in completed]
        _bulk(CareLog, task_logs)
        made_logs += len(task_logs)
    db.session.commit()
    # A database in service has planner statistics (autovacuum, or sqlite_stat1 after ANALYZE);
    # one filled a moment ago has none, and the planner would guess one row per table.
    db.session.execute(text("ANALYZE"))
    db.session.commit()

    return {
        "now": now,
        "facility_ids": facility_ids,
        "keeper_emails": [f"keeper{k}@bench.example.org" for k in range(keepers)],
        "coordinator_email": "coordinator@bench.example.org",
        "password": PASSWORD,
        "animal_ids": [row.id for row in animal_list],
        "animal_ids_of_first_facility": [row.id for row in animal_list if row.facility_id == facility_ids[0]],
        "counts": {
            "facilities": facilities, "enclosures": enclosures, "animals": animals,
            "animals in lots": sum(1 for r in animal_rows if r["intake_quantity"] > 1),
            "schedules": animals + enclosures, "care_logs": made_logs,
            "tasks": db.session.execute(select(func.count()).select_from(CareTask)).scalar_one(),
            "tasks made by generate_care_tasks": generated, "today's tasks completed": len(completed),
        },
    }
