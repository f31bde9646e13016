"""Demo complaints for `make run`: a handful per certificate in every stage, written through the services
so counters, events and ledger entries are exactly what real use produces. Call inside an app context
after the demo certificates and accounts exist; the caller commits."""
from __future__ import annotations

import random

from registry.complaints import services
from registry.complaints.rules import CATEGORIES, RESOLUTIONS

STORIES = [
    "空调安装后第三天就不制冷，师傅两次上门都没修好。",
    "冰箱送货时外壳凹陷，送货员让我先签收再说。",
    "洗衣机保修期内电机损坏，客服说要收上门费。",
    "热水器安装没有按约定时间上门，等了一整天。",
    "电视退货申请提交一周没有任何回复。",
    "旧冰箱以旧换新承诺上门回收，至今没人来。",
]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]


def seed_demo_complaints(certificates, moderator, company_users: dict, seed: int = 27922) -> int:
    """File and move demo complaints; `company_users` maps company_id → a company User. Returns the count."""
    rng = random.Random(seed)
    count = 0
    for certificate in certificates:
        company_user = company_users.get(certificate.company_id)
        for step in range(rng.randrange(0, 5)):
            complaint, _token = services.file_complaint(services.FilingData(
                certificate_number=certificate.number, category=rng.choice(CATEGORIES),
                description=rng.choice(STORIES), purchase_date=None, order_number=f"DD{rng.randrange(10**9):09d}",
                desired_resolution=rng.choice(RESOLUTIONS), amount=None, name=rng.choice(NAMES),
                mobile=f"+86139{rng.randrange(10**8):08d}", email="", consent=True))
            count += 1
            if step == 0:
                continue                      # stays submitted
            services.accept_complaint(complaint, moderator)
            if step == 1 or company_user is None:
                continue                      # waiting for the company
            services.respond_to_complaint(complaint, company_user, text="已安排客服专员联系您处理。")
            if step == 2:
                services.consumer_accepts(complaint, services.ConsumerActor(complaint.id))
            else:
                services.close_complaint(complaint, moderator, outcome=rng.choice(["upheld", "not_upheld"]),
                                         severity="minor", public_summary=None)
    return count
