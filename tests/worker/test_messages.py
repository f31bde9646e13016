"""Real messages: the durable outbox, SMTP (a real aiosmtpd server) and the HTTP SMS gateway (a local server),
retries with backoff, the staff page of failed messages, and exactly-once delivery by concurrent workers."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select, update

from registry import clock
from registry.complaints import messages
from registry.extensions import db
from registry.messaging.delivery import deliver
from registry.messaging.models import MessageStatus, OutgoingMessage
from tests.complaints.conftest import filing_form
from tests.conftest import close_app, make_app
from tests.factories import make_certificate
from tests.office.conftest import make_user, sign_in
from tests.worker.conftest import SmtpServer, gateway_settings


def _certificate_number(app) -> str:
    with app.app_context():
        number = make_certificate(level="4").number
        db.session.commit()
        return number


def _rows(app) -> list[OutgoingMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)).all()
        db.session.expunge_all()
        return rows


def _file(app, number: str, **form) -> None:
    response = app.test_client().post("/complaints/new", data=filing_form(number, **form))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_a_filed_complaint_reaches_the_consumer_by_sms_and_email(tmp_path, backend, smtp_server, sms_gateway):
    app = make_app(tmp_path, backend, **gateway_settings(smtp_server, sms_gateway))
    try:
        number = _certificate_number(app)
        _file(app, number, email="wang@example.com")
        assert len(sms_gateway.requests) == 1
        sms = sms_gateway.requests[0]
        assert sms["authorization"] == "Bearer sms-key-123"
        assert sms["json"]["to"] == "+8613812345678"
        assert "/complaints/" in sms["json"]["text"] and "token=" in sms["json"]["text"]
        assert len(smtp_server.messages) == 1
        mail = smtp_server.messages[0]
        assert mail["To"] == "wang@example.com" and mail["From"] == "registry@registry.test"
        tracking = sms["json"]["text"].split("/complaints/")[1].split("?")[0]
        assert tracking in mail["Subject"]
        assert tracking in mail.get_content()
        assert [r.status for r in _rows(app)] == ["sent", "sent"]
    finally:
        close_app(app, tmp_path)


def test_a_rolled_back_change_sends_nothing_and_leaves_no_row(tmp_path, backend, smtp_server, sms_gateway):
    app = make_app(tmp_path, backend, **gateway_settings(smtp_server, sms_gateway))
    try:
        with app.app_context():
            messages.queue(db.session, "email", "someone@example.test", "回滚", "不应发出")
            db.session.flush()
            db.session.rollback()
            db.session.commit()
        assert smtp_server.messages == [] and _rows(app) == []
    finally:
        close_app(app, tmp_path)


def test_a_refused_email_is_retried_with_backoff_then_listed_for_staff_who_retry_it(tmp_path, backend, sms_gateway):
    down = SmtpServer()  # its port is chosen but nothing listens yet: connections are refused
    app = make_app(tmp_path, backend, **gateway_settings(down, sms_gateway), MESSAGE_MAX_ATTEMPTS=2,
                   MESSAGE_RETRY_BASE_SECONDS=30)
    try:
        number = _certificate_number(app)
        _file(app, number, email="wang@example.com")
        sms, mail = _rows(app)
        assert sms.status == "sent"
        assert mail.status == "pending" and mail.attempts == 1 and "SMTP" in mail.last_error
        wait = (mail.next_attempt_at - clock.utcnow()).total_seconds()
        assert 20 < wait <= 30  # the first retry waits the base delay
        with app.app_context():
            assert deliver(db.engine).handled == 0  # not due yet
            db.session.execute(update(OutgoingMessage).values(next_attempt_at=clock.utcnow()))
            db.session.commit()
            assert deliver(db.engine).failed == 1  # the last allowed attempt
            officer = make_user("officer").id
            company = make_user("company", email="firm@office.test").id
            db.session.commit()
        assert _rows(app)[1].status == "failed"

        anonymous = app.test_client().get("/office/messages")
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
        company_client = app.test_client()
        sign_in(company_client, company)
        assert company_client.get("/office/messages").status_code == 403

        staff = app.test_client()
        sign_in(staff, officer)
        page = staff.get("/office/messages", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert "未能发出的消息" in page and "wa***@example.com" in page and "wang@example.com" not in page
        assert "ConnectionRefusedError" in page and "重试" in page

        down.start()  # the mail server is back
        try:
            response = staff.post(f"/office/messages/{mail.id}/retry")
            assert response.status_code == 302
            assert [m["To"] for m in down.messages] == ["wang@example.com"]
            assert _rows(app)[1].status == "sent"
            page = staff.get("/office/messages", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
            assert "所有消息均已发出" in page
        finally:
            down.stop()
    finally:
        close_app(app, tmp_path)


def test_an_sms_gateway_error_keeps_the_message_for_a_later_attempt(tmp_path, backend, smtp_server, sms_gateway):
    sms_gateway.status = 503
    app = make_app(tmp_path, backend, **gateway_settings(smtp_server, sms_gateway))
    try:
        _file(app, _certificate_number(app))
        (row,) = _rows(app)
        assert row.status == "pending" and row.last_error == "SMS gateway answered 503"
        sms_gateway.status = 200
        with app.app_context():
            db.session.execute(update(OutgoingMessage).values(next_attempt_at=clock.utcnow()))
            db.session.commit()
        result = app.test_cli_runner().invoke(args=["messages", "deliver"])
        assert "1 sent" in result.output
        assert len(sms_gateway.requests) == 2 and _rows(app)[0].status == "sent"
    finally:
        close_app(app, tmp_path)


def test_in_worker_mode_the_web_process_only_writes_and_the_worker_sends(tmp_path, backend, smtp_server, sms_gateway):
    app = make_app(tmp_path, backend, **gateway_settings(smtp_server, sms_gateway), MESSAGE_DELIVERY="worker")
    try:
        _file(app, _certificate_number(app), email="wang@example.com")
        assert sms_gateway.requests == [] and smtp_server.messages == []
        assert [r.status for r in _rows(app)] == ["pending", "pending"]
        result = app.test_cli_runner().invoke(args=["registry", "worker", "--once"])
        assert result.exit_code == 0, result.output
        assert len(sms_gateway.requests) == 1 and len(smtp_server.messages) == 1
    finally:
        close_app(app, tmp_path)


def _undelivered(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(OutgoingMessage).where(
            OutgoingMessage.status.in_([MessageStatus.PENDING.value, MessageStatus.SENDING.value])))


def test_concurrent_workers_deliver_each_message_exactly_once(tmp_path, backend, smtp_server, sms_gateway):
    settings = {**gateway_settings(smtp_server, sms_gateway), "MESSAGE_DELIVERY": "worker"}
    first = make_app(tmp_path, backend, **settings)
    uri = first.config["SQLALCHEMY_DATABASE_URI"]
    apps = [first] + [make_app(tmp_path / f"w{i}", backend, SQLALCHEMY_DATABASE_URI=uri, **settings) for i in range(3)]
    try:
        with first.app_context():
            for i in range(120):
                messages.queue(db.session, "email", f"c{i}@example.test", f"通知 {i}", "内容")
            db.session.commit()
            ids = set(db.session.scalars(select(OutgoingMessage.id)))
        start = threading.Barrier(len(apps))
        errors: list[BaseException] = []
        counts: list[int] = []

        def work(app):
            try:
                with app.app_context():
                    start.wait()
                    mine = 0
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        report = deliver(db.engine, limit=5)
                        mine += report.sent
                        # A pass that found nothing to claim (another worker holds the rows, or SQLite's single
                        # writer made it wait) is not the end: stop only when nothing is left to deliver.
                        if not report.handled and not _undelivered(db.engine):
                            break
                        time.sleep(0.01)  # yield between batches, so a loaded machine still interleaves the workers
                    counts.append(mine)
            except BaseException as error:  # reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(a,)) for a in apps]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        assert sum(counts) == 120 and sum(1 for c in counts if c) >= 2  # the work was really shared
        delivered = [int(m["X-Registry-Message"]) for m in smtp_server.messages]
        assert sorted(delivered) == sorted(ids)  # every message once, none twice
        with first.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutgoingMessage)
                                     .where(OutgoingMessage.status == MessageStatus.SENT.value)) == 120
    finally:
        for a, path in zip(apps, [tmp_path] + [tmp_path / f"w{i}" for i in range(3)], strict=True):
            close_app(a, path)


@pytest.mark.parametrize("recipient, shown", [("+8613812345678", "+86****5678"), ("ab@x.test", "ab***@x.test")])
def test_staff_page_masks_recipients(recipient, shown):
    from registry.messaging.views import masked
    assert masked(recipient) == shown


def test_retry_delays_double_up_to_the_cap(app_ctx):
    from registry.messaging.delivery import retry_delay
    app_ctx.config.update(MESSAGE_RETRY_BASE_SECONDS=30, MESSAGE_RETRY_MAX_SECONDS=3600)
    assert [retry_delay(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_message_claimed_by_a_worker_that_died_is_taken_over_after_its_lease(tmp_path, backend, smtp_server,
                                                                                sms_gateway):
    app = make_app(tmp_path, backend, **gateway_settings(smtp_server, sms_gateway), MESSAGE_DELIVERY="worker")
    try:
        with app.app_context():
            messages.queue(db.session, "email", "firm@example.com", "新投诉", "请在期限内答复")
            db.session.commit()
            # A worker claimed it and died before sending: the lease still runs, nobody else may take it.
            db.session.execute(update(OutgoingMessage).values(status="sending", claim_token="dead", attempts=1,
                                                              lease_until=clock.utcnow() + dt.timedelta(minutes=4)))
            db.session.commit()
            assert deliver(db.engine).handled == 0
            db.session.execute(update(OutgoingMessage).values(lease_until=clock.utcnow() - dt.timedelta(seconds=1)))
            db.session.commit()
            assert deliver(db.engine).sent == 1
        assert [m["To"] for m in smtp_server.messages] == ["firm@example.com"]
        assert _rows(app)[0].attempts == 2
    finally:
        close_app(app, tmp_path)
