from datetime import timedelta
from app.alerts.models import AlertStatus, JobRun
from app.care.models import CareTask
from tests import factories
from tests.alerts.conftest import NOW


def test_dump(client, login, db, make_alert, facility):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), name="Srey")
    task = CareTask(facility_id=facility.id, animal_id=animal.id, kind="feed", due_at=NOW)
    db.session.add(task); db.session.flush()
    make_alert("care_overdue", task=task, reference_at=NOW, severity="critical")
    make_alert(animal=animal, status=AlertStatus.ACKNOWLEDGED)
    db.session.add(JobRun(job="flag_weights", as_of=NOW, started_at=NOW, finished_at=NOW + timedelta(seconds=2), status="failed", error="Trace\nboom"))
    db.session.flush()
    login("admin")
    for url in ("/alerts", "/alerts?lang=km", f"/animals/{animal.id}", "/admin/job-runs", "/admin/job-runs?lang=km"):
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        start = html.find('<main'); 
        open("/tmp/scratch_" + url.replace("/", "_").replace("?", "_") + ".html", "w").write(html)
