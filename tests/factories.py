"""Factories for test data: valid by default, overridable per test. Call inside an app context."""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from registry.certificates.identifiers import make_uscc
from registry.certificates.models import Certificate, Company
from registry.certificates.rules import default_expiry
from registry.extensions import db
from registry.schemes import get_scheme

_counter = itertools.count(1)


def uscc_for(n: int) -> str:
    """A valid USCC, distinct for each n: 91 (enterprise) + 110108 (Beijing Haidian) + 9 digits."""
    return make_uscc(f"91110108{n:09d}")


def make_company(**overrides) -> Company:
    n = next(_counter)
    values = dict(name=f"测试家电服务有限公司{n}", uscc=uscc_for(n), former_names=[], province="北京市", city="北京市",
                  address="海淀区中关村大街1号", industry="家电", enterprise_type="production")
    values.update(overrides)
    company = Company(**values)
    db.session.add(company)
    db.session.flush()
    return company


def make_certificate(company: Company | None = None, **overrides) -> Certificate:
    n = next(_counter)
    company = company or make_company()
    scheme_id = overrides.get("scheme_id", "gbt27922-2011")
    issued_on = overrides.pop("issued_on", dt.date(2025, 9, 1))
    values = dict(number=f"99925SV{n:05d}R0", company=company, scheme_id=scheme_id, level="4",
                  score=Decimal("91.50"), scope="家用电器的配送、安装、维修及退换货服务", service_sites=["北京市海淀区服务中心"],
                  issued_on=issued_on, expires_on=default_expiry(get_scheme(scheme_id), issued_on),
                  first_issued_on=issued_on, status="valid")
    values.update(overrides)
    certificate = Certificate(**values)
    db.session.add(certificate)
    db.session.flush()
    return certificate
