"""Fictional demo register: about 200 companies, deterministic for a given "today".

Every company, brand and code here is invented (brands are built from uncommon characters and checked
against a list of real brand names). The records are written in the import-file form and go through the
same checks and the same service as a real import, so the demo has ledger entries and search rows like
real data. Dates are relative to today so that "due for surveillance" and "expired" mean something.
"""
from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass
from decimal import Decimal

from registry.certificates.identifiers import make_uscc
from registry.certificates.importer import COLUMNS, ImportRow, check_records, describe
from registry.certificates.rules import add_months, default_expiry
from registry.schemes import all_schemes, get_scheme

SEED = 27922
COMPANY_COUNT = 200
CB_CODE = "999"
FIRST_SERIAL = 20001


@dataclass(frozen=True)
class Region:
    province: str
    city: str
    code: str  # GB/T 2260 code of the registering authority (USCC characters 3–8)
    districts: tuple[str, ...]
    weight: int = 2


REGIONS = (
    Region("山东省", "青岛市", "370200", ("市南区", "崂山区", "黄岛区"), 5),
    Region("山东省", "济南市", "370100", ("历下区", "槐荫区"), 3),
    Region("山东省", "烟台市", "370600", ("芝罘区", "莱山区")),
    Region("广东省", "广州市", "440100", ("天河区", "番禺区", "白云区"), 5),
    Region("广东省", "深圳市", "440300", ("南山区", "福田区", "宝安区"), 5),
    Region("广东省", "佛山市", "440600", ("顺德区", "南海区"), 4),
    Region("广东省", "东莞市", "441900", ("南城街道", "长安镇"), 2),
    Region("浙江省", "杭州市", "330100", ("西湖区", "滨江区", "余杭区"), 5),
    Region("浙江省", "宁波市", "330200", ("鄞州区", "北仑区"), 3),
    Region("浙江省", "温州市", "330300", ("鹿城区", "瓯海区")),
    Region("江苏省", "南京市", "320100", ("鼓楼区", "江宁区"), 4),
    Region("江苏省", "苏州市", "320500", ("姑苏区", "吴中区"), 4),
    Region("江苏省", "无锡市", "320200", ("梁溪区", "滨湖区")),
    Region("北京市", "北京市", "110105", ("朝阳区",), 3),
    Region("北京市", "北京市", "110108", ("海淀区",), 2),
    Region("上海市", "上海市", "310115", ("浦东新区",), 3),
    Region("上海市", "上海市", "310104", ("徐汇区",), 2),
    Region("天津市", "天津市", "120116", ("滨海新区",)),
    Region("重庆市", "重庆市", "500112", ("渝北区",), 2),
    Region("四川省", "成都市", "510100", ("武侯区", "锦江区"), 4),
    Region("湖北省", "武汉市", "420100", ("江汉区", "洪山区"), 3),
    Region("湖南省", "长沙市", "430100", ("岳麓区", "芙蓉区"), 3),
    Region("河南省", "郑州市", "410100", ("金水区", "二七区"), 3),
    Region("河北省", "石家庄市", "130100", ("长安区", "裕华区")),
    Region("福建省", "厦门市", "350200", ("思明区", "湖里区"), 2),
    Region("福建省", "福州市", "350100", ("鼓楼区", "仓山区")),
    Region("安徽省", "合肥市", "340100", ("蜀山区", "包河区"), 2),
    Region("陕西省", "西安市", "610100", ("雁塔区", "未央区"), 2),
    Region("辽宁省", "沈阳市", "210100", ("和平区", "浑南区")),
    Region("辽宁省", "大连市", "210200", ("中山区", "甘井子区")),
    Region("江西省", "南昌市", "360100", ("东湖区", "红谷滩区")),
    Region("云南省", "昆明市", "530100", ("五华区", "官渡区")),
    Region("广西壮族自治区", "南宁市", "450100", ("青秀区", "西乡塘区")),
    Region("山西省", "太原市", "140100", ("小店区", "迎泽区"), 1),
    Region("吉林省", "长春市", "220100", ("朝阳区", "南关区"), 1),
    Region("黑龙江省", "哈尔滨市", "230100", ("南岗区", "道里区"), 1),
    Region("贵州省", "贵阳市", "520100", ("观山湖区", "云岩区"), 1),
    Region("甘肃省", "兰州市", "620100", ("城关区", "七里河区"), 1),
    Region("内蒙古自治区", "呼和浩特市", "150100", ("新城区", "赛罕区"), 1),
    Region("新疆维吾尔自治区", "乌鲁木齐市", "650100", ("天山区", "沙依巴克区"), 1),
    Region("海南省", "海口市", "460100", ("龙华区", "美兰区"), 1),
    Region("宁夏回族自治区", "银川市", "640100", ("金凤区", "兴庆区"), 1),
    Region("青海省", "西宁市", "630100", ("城西区", "城中区"), 1),
)


@dataclass(frozen=True)
class Industry:
    name: str
    weight: int
    types: tuple[str, ...]  # enterprise types, the first most common
    words: tuple[str, ...]  # what goes into the company name
    scopes: tuple[str, ...]
    site: str               # what a service site is called


INDUSTRIES = (
    Industry("家电", 30, ("production", "sales_service"), ("家电", "电器", "家用电器"), (
        "家用电器的销售、配送、安装、维修及退换货服务",
        "空调、冰箱、洗衣机的配送安装、维修保养及以旧换新服务",
        "厨房电器的生产、安装调试及售后维修服务",
        "电视机及影音设备的销售、上门安装与维修服务"), "售后服务中心"),
    Industry("汽车销售", 24, ("sales_service",), ("汽车销售服务", "汽车贸易"), (
        "乘用车销售、维修保养、配件供应及客户关怀服务",
        "品牌汽车整车销售、售后维修、钣金喷漆及道路救援服务",
        "二手车鉴定评估、销售及质保服务"), "汽车服务站"),
    Industry("家居建材", 24, ("production", "sales_service"), ("家居", "建材", "装饰材料"), (
        "定制家具的设计、生产、配送安装及售后维修服务",
        "瓷砖、卫浴产品的销售、配送、铺贴指导及售后服务",
        "木地板的销售、铺装及保养维修服务",
        "门窗的测量、生产、安装及维修服务"), "服务网点"),
    Industry("电动车", 20, ("production", "sales_service"), ("电动车", "新能源车业", "电动科技"), (
        "电动自行车的生产、销售、维修及电池回收服务",
        "电动两轮车销售、上牌代办、维修保养及以旧换新服务"), "维修服务站"),
    Industry("餐饮", 14, ("sales_service",), ("餐饮管理", "餐饮连锁"), (
        "中式正餐及外卖配送的顾客服务与投诉处理",
        "连锁快餐门店的点餐、外送及顾客服务"), "门店"),
    Industry("物流", 20, ("sales_service",), ("物流", "供应链管理", "运输"), (
        "大件家电及家具的仓储、配送、送装一体服务",
        "城市配送、仓储及货损理赔服务",
        "冷链运输及仓储配送服务"), "配送站"),
    Industry("零售", 20, ("sales_service",), ("商贸", "百货", "超市连锁"), (
        "日用百货及食品零售、退换货及会员服务",
        "连锁超市商品销售、配送到家及售后服务",
        "百货商场商品销售、退换货及顾客投诉处理服务"), "门店"),
    Industry("手机通讯", 16, ("sales_service", "production"), ("通讯设备", "通信器材", "数码科技"), (
        "移动通信终端的销售、维修及以旧换新服务",
        "智能手机及配件的销售、检测维修及数据迁移服务"), "客户服务中心"),
    Industry("酒店", 14, ("sales_service",), ("酒店管理", "宾馆"), (
        "酒店住宿、餐饮及会议服务的顾客服务",
        "连锁酒店客房预订、入住及投诉处理服务"), "酒店"),
)

BRAND_FIRST = tuple("澜岚澄睿珑翊沐璟煦湛栖曦珩岱漪芮骁舜铂朔峻屹翎晗弈")
BRAND_SECOND = tuple("泽峰源辰途航拓川锐晟悦腾熙诺远尔乐达鸣启阔")
# Real brands and listed companies these characters could spell: never generated.
REAL_BRANDS = frozenset({"睿远", "沐邦", "榕泰", "钧达", "晟腾", "芮达", "岚图", "睿达", "舜宇", "朔尔", "澄达"})
SUFFIXES = (("有限公司", 70), ("有限责任公司", 15), ("股份有限公司", 10), ("集团有限公司", 5))
ROADS = ("人民路", "解放路", "中山路", "建设路", "长江路", "黄河路", "新华路", "和平路", "胜利路", "东风路",
         "科技路", "工业大道", "滨河路", "文化路", "创业路", "振兴路", "滨海大道", "金融街")

SUSPENSION_REASONS = ("未按期接受年度监督审核", "监督审核发现售后服务承诺未兑现，限期整改",
                      "消费者投诉经核实：服务网点未按承诺时限上门维修，限期整改", "企业申请暂停",
                      "经营场所变更未及时告知认证机构")
REVOCATION_REASONS = ("暂停期满仍未完成整改", "提供虚假的服务网点材料", "拒绝接受监督审核", "营业执照被吊销")
WITHDRAWAL_REASONS = ("企业申请注销证书", "企业已停止相关业务", "企业合并，原证书注销")

# How many current certificates get each story; the rest are plainly valid.
STORIES = {"suspended": 12, "revoked": 6, "withdrawn": 6, "expired": 14, "due": 12, "overdue": 10}

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check(base8: str) -> str:
    """GB 11714 check character for the 8-character organisation code inside a USCC (characters 9–16)."""
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * weight for ch, weight in zip(base8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


@functools.cache
def _simplified_to_traditional():
    from opencc import OpenCC

    return OpenCC("s2t")  # loading the dictionaries costs ~0.1 s: once per process


def _to_traditional(text: str) -> str:
    return _simplified_to_traditional().convert(text)


class _Generator:
    def __init__(self, today: dt.date):
        self.today = today
        self.rng = random.Random(SEED)
        self.serial = FIRST_SERIAL
        self.usccs: set[str] = set()
        self.names: set[str] = set()

    def pick(self, weighted):
        items, weights = zip(*weighted, strict=True)
        return self.rng.choices(items, weights=weights)[0]

    def uscc(self, region: Region) -> str:
        while True:
            body = "MA" + "".join(self.rng.choice(USCC_CHARSET) for _ in range(6))
            code = make_uscc("91" + region.code + body + org_code_check(body))
            if code not in self.usccs:
                self.usccs.add(code)
                return code

    def brand(self) -> str:
        while True:
            brand = self.rng.choice(BRAND_FIRST) + self.rng.choice(BRAND_SECOND)
            if brand not in REAL_BRANDS:
                return brand

    def company(self, index: int) -> dict:
        industry = self.pick([(i, i.weight) for i in INDUSTRIES])
        region = self.pick([(r, r.weight) for r in REGIONS])
        prefix = region.city.removesuffix("市")
        while True:
            brand, word, suffix = self.brand(), self.rng.choice(industry.words), self.pick(SUFFIXES)
            name = (f"{brand}{word}（{prefix}）{suffix}" if self.rng.random() < 0.1
                    else f"{prefix}{brand}{word}{suffix}")
            if name not in self.names:
                self.names.add(name)
                break
        district = self.rng.choice(region.districts)
        former: list[str] = []
        if index % 11 == 3:  # renamed: a different brand or trade before
            former.append(f"{prefix}{self.brand()}{self.rng.choice(industry.words)}有限公司")
        if index % 29 == 7:  # registered first in traditional characters (e.g. 海爾 for 海尔)
            former.append(_to_traditional(f"{prefix}{brand}{self.rng.choice(industry.words)}{suffix}"))
        if index % 37 == 5:
            former.append(_to_traditional(name))
        return {
            "industry_obj": industry, "region": region, "brand": brand, "district": district,
            "company_name": name, "uscc": self.uscc(region), "province": region.province, "city": region.city,
            "address": f"{district}{self.rng.choice(ROADS)}{self.rng.randint(1, 999)}号",
            "industry": industry.name,
            "enterprise_type": industry.types[0] if self.rng.random() < 0.75 else industry.types[-1],
            "former_names": ";".join(former),
        }

    def number(self, issued_on: dt.date, recert: int = 0) -> str:
        number = f"{CB_CODE}{issued_on.year % 100:02d}SV{self.serial:05d}R{recert}"
        self.serial += 1
        return number

    def score_for(self, scheme_id: str, level_id: str) -> Decimal:
        scheme = get_scheme(scheme_id)
        levels = list(scheme.levels)
        index = [lvl.id for lvl in levels].index(level_id)
        low = levels[index].min_score
        high = levels[index + 1].min_score if index + 1 < len(levels) else scheme.scale + Decimal("0.01")
        cents = self.rng.randrange(int(low * 100), int(high * 100))
        return Decimal(cents) / 100

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    def dates_for(self, story: str, scheme_id: str) -> dict:
        """Issue date, last surveillance and status date that make the story true today."""
        months = get_scheme(scheme_id).surveillance_interval_months
        result: dict = {"status": "", "status_reason": "", "status_changed_on": None, "last_surveillance_on": None}
        if story in ("valid", "due", "overdue"):
            due = {"valid": lambda: self.today + dt.timedelta(days=self.rng.randint(31, 330)),
                   "due": lambda: self.today + dt.timedelta(days=self.rng.randint(0, 30)),
                   "overdue": lambda: self.today - dt.timedelta(days=self.rng.randint(1, 75))}[story]()
            last = add_months(due, -months)
            cycles = self.rng.choice((0, 1, 1, 2)) if story == "valid" else self.rng.choice((0, 1))
            issued = add_months(last, -months * cycles) - dt.timedelta(days=self.rng.randint(0, 20) if cycles else 0)
            if default_expiry(get_scheme(scheme_id), issued) < self.today or issued > self.today:
                issued, cycles = last, 0
            result["issued_on"] = issued
            result["last_surveillance_on"] = last if cycles else None
            return result
        if story == "expired":
            issued = self.days_ago(1100, 1500)
            result["issued_on"] = issued
            # Audited to the end of the cycle: with an earlier last audit the overdue suspension would run
            # out before expiry, and the status rule then shows 撤销 (final), not 过期.
            result["last_surveillance_on"] = add_months(issued, months * 2)
            return result
        issued = self.days_ago(200, 950)
        result["issued_on"] = issued
        span = (self.today - issued).days
        if story == "suspended":
            changed = self.days_ago(3, min(150, span - 1))
            reason = self.rng.choice(SUSPENSION_REASONS)
        else:
            changed = issued + dt.timedelta(days=self.rng.randint(min(120, span - 10), span - 5))
            reason = self.rng.choice(REVOCATION_REASONS if story == "revoked" else WITHDRAWAL_REASONS)
        if (changed - issued).days > 380:
            result["last_surveillance_on"] = add_months(issued, months)
        result.update(status=story, status_reason=reason, status_changed_on=changed)
        return result

    def certificate(self, company: dict, scheme_id: str, level_id: str, story: str,
                    issued_on: dt.date | None = None, recert: int = 0) -> dict:
        industry: Industry = company["industry_obj"]
        dates = self.dates_for(story, scheme_id)
        if issued_on is not None:  # a recertification cycle: the dates follow the earlier certificate
            months = get_scheme(scheme_id).surveillance_interval_months
            surveyed = [add_months(issued_on, months * k) for k in (1, 2) if add_months(issued_on, months * k) <= self.today]
            dates.update(issued_on=issued_on, last_surveillance_on=surveyed[-1] if surveyed else None)
        sites = [f"{company['city']}{company['district']}{company['brand']}{industry.site}"]
        region: Region = company["region"]
        for district in self.rng.sample(region.districts, k=self.rng.randint(0, len(region.districts) - 1)):
            if district != company["district"]:
                sites.append(f"{company['city']}{district}{industry.site}")
        record = {
            **{k: v for k, v in company.items() if k in COLUMNS},
            "certificate_number": self.number(dates["issued_on"], recert),
            "scheme": scheme_id, "score": str(self.score_for(scheme_id, level_id)), "level": level_id,
            "scope": self.rng.choice(industry.scopes), "issued_on": dates["issued_on"].isoformat(), "expires_on": "",
            "status": dates["status"], "status_reason": dates["status_reason"],
            "status_changed_on": dates["status_changed_on"].isoformat() if dates["status_changed_on"] else "",
            "last_surveillance_on": (dates["last_surveillance_on"].isoformat()
                                     if dates["last_surveillance_on"] else ""),
            "service_sites": ";".join(sites),
        }
        if scheme_id == "satisfaction-1000":
            record["scope"] = "顾客满意度星级评价：" + record["scope"]
        return record


# Exact thresholds and the cut-off rounding are shown on a few certificates, so the demo explains itself.
_BOUNDARY_SCORES = {0: ("gbt27922-2011", "3", "80.00"), 1: ("gbt27922-2011", "compliant", "79.99"),
                    2: ("gbt27922-2011", "4", "90.00"), 3: ("gbt27922-2011", "5", "95.00"),
                    4: ("gbt27922-2011", "compliant", "70.00"), 5: ("gbt27922-2011", "5", "100.00")}


def demo_records(today: dt.date) -> list[dict[str, str]]:
    """The demo register as import-file records (column → text), deterministic for `today`."""
    gen = _Generator(today)
    companies = [gen.company(i) for i in range(COMPANY_COUNT)]
    stories = [story for story, count in STORIES.items() for _ in range(count)]
    stories += ["valid"] * (COMPANY_COUNT - len(stories))
    gen.rng.shuffle(stories)
    gbt_levels = [("compliant", 25), ("3", 35), ("4", 25), ("5", 15)]
    sat_levels = [("7", 40), ("8", 35), ("9", 25)]
    records: list[dict] = []
    for index, (company, story) in enumerate(zip(companies, stories, strict=True)):
        if index % 17 == 9:
            # Recertified: the first cycle ran out, the second certificate was issued the day after.
            old_issued = gen.days_ago(1100, 1300)
            records.append(gen.certificate(company, "gbt27922-2011", gen.pick(gbt_levels), "expired", old_issued))
            new_issued = default_expiry(get_scheme("gbt27922-2011"), old_issued) + dt.timedelta(days=1)
            records.append(gen.certificate(company, "gbt27922-2011", gen.pick(gbt_levels), "valid", new_issued, 1))
        else:
            level = gen.pick(gbt_levels)
            record = gen.certificate(company, "gbt27922-2011", level, story)
            if index in _BOUNDARY_SCORES:
                _scheme, record["level"], record["score"] = _BOUNDARY_SCORES[index]
            records.append(record)
        if company["industry"] in ("家电", "汽车销售", "酒店", "零售", "手机通讯") and index % 4 == 1:
            sat_story = "suspended" if index % 24 == 1 else "valid"
            records.append(gen.certificate(company, "satisfaction-1000", gen.pick(sat_levels), sat_story))
    # Every level of the 1000-point scheme appears at least once whatever the dice said.
    for extra, level in zip((c for i, c in enumerate(companies) if i % 4 == 3), ("7", "8", "9"), strict=False):
        records.append(gen.certificate(extra, "satisfaction-1000", level, "valid"))
    return records


def demo_rows(today: dt.date) -> list[ImportRow]:
    """The demo records checked exactly like an import file; a problem here is a bug in this module."""
    records = demo_records(today)
    result = check_records(((index + 2, record, []) for index, record in enumerate(records)), today, all_schemes())
    if result.problems:
        details = "; ".join(f"{p.line}/{p.column}: {describe(p)}" for p in result.problems[:10])
        raise RuntimeError(f"demo data failed the import checks: {details}")
    return result.rows
