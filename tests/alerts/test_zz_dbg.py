from app.alerts import digest
from app.alerts.digest import send_alert_digests
from tests.alerts.conftest import NOW
from tests.alerts.test_digest import SEND, mail_on, smtp_server  # noqa

def test_dbg(mail_on, make_user, make_alert, monkeypatch):
    make_user("keeper")
    make_alert("weight_missing")
    ds = digest.pending_digests(NOW)
    print("digests", ds)
    orig = digest._claim
    def claim(d, until):
        r = orig(d, until); print("claim", r); return r
    monkeypatch.setattr(digest, "_claim", claim)
    print(send_alert_digests(SEND))
