"""A small register with history: the fixtures procurement and API tests share."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from registry.certificates import lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.extensions import db
from tests.factories import make_certificate, make_company


@dataclass(frozen=True)
class Register:
    five_star: str          # number: issued 2025-09-01 at five stars, lowered to four on 2026-05-20
    five_star_uscc: str
    five_star_name: str
    suspended: str          # number: suspended on 2026-05-25
    expiring: str           # number: valid, expires 2026-07-31
    twin_name: str          # two companies carry this exact name
    twin_numbers: tuple[str, str]


def issue_with_history(company=None, **overrides):
    """A certificate with its 'issued' ledger entry on the issue day, as the lifecycle services write it."""
    certificate = make_certificate(company, **overrides)
    lifecycle.record_event(certificate, "issued", actor_role="officer", effective_on=certificate.issued_on)
    return certificate


def build_register(app) -> Register:
    with app.app_context():
        haelan = make_company(name="青岛海澜家电有限公司", province="山东省", city="青岛市")
        five = issue_with_history(haelan, number="99925SV00001R0", level="5", score=96,
                                  issued_on=dt.date(2025, 9, 1))
        app.config["REGISTRY_TODAY"] = "2026-05-20"
        lifecycle.change_level(five, new_level="4", reason="监督审核降级", actor=SYSTEM, score=91)
        app.config["REGISTRY_TODAY"] = "2026-05-25"
        suspended = issue_with_history(make_company(name="北京暂停电器有限公司"), number="99925SV00002R0",
                                       issued_on=dt.date(2025, 10, 1))
        lifecycle.suspend_certificate(suspended, reason="监督发现严重不符合", until=dt.date(2026, 8, 1), actor=SYSTEM)
        app.config["REGISTRY_TODAY"] = "2026-06-01"
        expiring = issue_with_history(make_company(name="上海将到期服务有限公司", province="上海市"),
                                      number="99923SV00003R0", issued_on=dt.date(2023, 8, 1),
                                      last_surveillance_on=dt.date(2025, 8, 1))
        twin_a = issue_with_history(make_company(name="重名服务有限公司", province="广东省"), number="99925SV00004R0")
        twin_b = issue_with_history(make_company(name="重名服务有限公司", province="浙江省"), number="99925SV00005R0")
        db.session.commit()
        return Register(five.number, haelan.uscc, haelan.name, suspended.number, expiring.number,
                        "重名服务有限公司", (twin_a.number, twin_b.number))


@pytest.fixture
def register(app) -> Register:
    return build_register(app)
