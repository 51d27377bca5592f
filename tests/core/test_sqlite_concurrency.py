"""Several processes writing one SQLite file at once: they wait their turn, none fails "locked"."""

import multiprocessing

import sqlalchemy as sa

from tests.conftest import make_config

WRITERS = 4
WRITES_EACH = 25


def _writer(database_url: str, writer: int) -> None:
    from app import create_app
    from app.extensions import db

    app = create_app(make_config(database_url))
    with app.app_context():
        for n in range(WRITES_EACH):
            # Read first, then write: the pattern that fails at once under deferred
            # transactions when another process holds the write lock.
            db.session.execute(sa.text("SELECT count(*) FROM counter_rows")).scalar()
            db.session.execute(sa.text("INSERT INTO counter_rows (writer, n) VALUES (:w, :n)"), {"w": writer, "n": n})
            db.session.commit()


def test_concurrent_writers_on_sqlite_all_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"
    from app import create_app
    from app.extensions import db

    app = create_app(make_config(url))
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE counter_rows (writer INTEGER, n INTEGER)"))
        db.session.commit()

    spawn = multiprocessing.get_context("spawn")
    processes = [spawn.Process(target=_writer, args=(url, w)) for w in range(WRITERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * WRITERS

    with app.app_context():
        assert db.session.execute(sa.text("SELECT count(*) FROM counter_rows")).scalar() == WRITERS * WRITES_EACH
