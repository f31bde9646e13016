"""Search fixtures: a small register of certificates written through the outbox, indexed for real."""
from __future__ import annotations

import datetime as dt

import pytest

from registry.extensions import db
from registry.search.outbox import queue_certificate
from tests.factories import make_certificate, make_company, uscc_for

HAILAN_USCC = uscc_for(900001)


def add_certificate(company_values: dict, **certificate_values):
    """A company and certificate queued for search, as services do (the caller commits)."""
    company = make_company(**company_values)
    certificate = make_certificate(company, **certificate_values)
    queue_certificate(certificate.id)
    return certificate


def build_register() -> dict[str, str]:
    """The relevance-table register; returns {key: certificate number}. Call inside an app context."""
    rows = {
        "hailan": ({"name": "青岛海澜家电有限公司", "uscc": HAILAN_USCC, "province": "山东省", "city": "青岛市",
                    "industry": "家电"},
                   {"number": "99925SV90001R0", "level": "5", "scope": "家用电器（空调、冰箱）的配送、安装和维修服务",
                    "service_sites": ["青岛市市南区服务中心"]}),
        "zhuhai": ({"name": "珠海澜湾电子科技有限公司", "province": "广东省", "city": "珠海市", "industry": "电子"},
                   {"number": "99925SV90002R0", "level": "3", "scope": "电子产品的售后维修"}),
        "haier": ({"name": "海尔智家股份有限公司", "former_names": ["青島海爾股份有限公司"], "province": "山东省",
                   "city": "青岛市", "industry": "家电"},
                  {"number": "99925SV90003R0", "level": "5", "scope": "家用电器的安装与维修"}),
        "qingfeng": ({"name": "北京清风空调服务有限公司", "province": "北京市", "city": "北京市", "industry": "暖通"},
                     {"number": "99925SV90004R0", "level": "4", "scope": "空调的安装、维修和保养服务"}),
        "tcl": ({"name": "TCL王牌电器（惠州）有限公司", "province": "广东省", "city": "惠州市", "industry": "家电"},
                {"number": "99925SV90005R0", "level": "4", "scope": "电视机的送货、安装和维修"}),
        "renamed": ({"name": "远景售后服务有限公司", "former_names": ["老字号修理服务社"], "province": "上海市",
                     "city": "上海市", "industry": "服务"},
                    {"number": "99925SV90006R0", "level": "compliant", "scope": "小家电维修"}),
        "suspended": ({"name": "杭州暂停电器有限公司", "province": "浙江省", "city": "杭州市", "industry": "家电"},
                      {"number": "99925SV90007R0", "level": "3", "status": "suspended", "scope": "电器维修"}),
        "revoked": ({"name": "杭州撤销电器有限公司", "province": "浙江省", "city": "杭州市", "industry": "家电"},
                    {"number": "99925SV90008R0", "level": "3", "status": "revoked", "scope": "电器维修"}),
        "expired": ({"name": "南京过期电器有限公司", "province": "江苏省", "city": "南京市", "industry": "家电"},
                    {"number": "99922SV90009R0", "level": "4", "issued_on": dt.date(2022, 1, 10), "scope": "电器维修",
                     "last_surveillance_on": dt.date(2024, 1, 5)}),
    }
    numbers = {}
    for key, (company_values, certificate_values) in rows.items():
        numbers[key] = add_certificate(company_values, **certificate_values).number
    db.session.commit()
    return numbers


@pytest.fixture
def register(app):
    with app.app_context():
        return build_register()
