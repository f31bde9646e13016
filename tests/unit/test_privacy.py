"""The personal-data detector: hostile variants that must be caught, ordinary texts that must pass unchanged."""
from __future__ import annotations

import pytest

from registry.complaints.privacy import REMOVED, describe, find_personal_data, mask_personal_data

CONSUMER = "王小明"
LATIN_CONSUMER = "John Smith"
ORDER = "JD20260512998877"

# (kind expected, text): each must be caught with the consumer 王小明 (order JD20260512998877).
HOSTILE = [
    # phones
    ("phone", "请打137.0011.2233联系"),
    ("phone", "手机 137 0011 2233"),
    ("phone", "手机13700112233"),
    ("phone", "电话：＋８６ １３７ ００１１ ２２３３"),
    ("phone", "电话１３７００１１２２３３"),
    ("phone", "号码 1-3-7-0-0-1-1-2-2-3-3"),
    ("phone", "打 137-0011-2233 找我"),
    ("phone", "一三七零零一一二二三三是我的号"),
    ("phone", "幺三七 零零幺幺 两两三三"),
    ("phone", "+86-137-0011-2233"),
    ("phone", "0086 13700112233"),
    ("phone", "(021) 6888 1234 是家里座机"),
    ("phone", "座机021-68881234"),
    ("phone", "0571 8888 8888"),
    ("phone", "137。0011。2233"),
    ("phone", "tel: 6888 1234"),
    ("phone", "137_0011_2233"),
    ("phone", "(137) 0011 2233"),
    # e-mails
    ("email", "邮箱 x at example.org"),
    ("email", "mail: wxm@example.org"),
    ("email", "wxm＠example．org"),
    ("email", "wxm[at]example.org"),
    ("email", "wxm(at)example(dot)org"),
    ("email", "wxm AT example DOT com"),
    ("email", "wxm艾特qq点com"),
    ("email", "wang.xm+shop@mail.example.cn"),
    ("email", "wxm # example.com"),
    ("email", "12345678 at qq dot com"),
    # ID numbers
    ("id_number", "身份证310115199001011234"),
    ("id_number", "证件 31011519900101123X"),
    ("id_number", "310115 19900101 1234"),
    ("id_number", "身份证号：３１０１１５１９９００１０１１２３４"),
    ("id_number", "老身份证 310115900101123"),
    # order and invoice numbers
    ("order_number", "订单号 JD20260512998877"),
    ("order_number", "订单JD 2026 0512 9988 77"),
    ("order_number", "发票号码 04412345"),
    ("order_number", "淘宝订单 2026051299887766554"),
    ("order_number", "invoice no. INV-2026-88123"),
    ("order_number", "运单号SF1234567890123"),
    ("order_number", "单号：ｊｄ２０２６０５１２９９８８７７"),
    ("order_number", "合同号 HT20260001"),
    # bank cards
    ("bank_card", "退款到6222 0212 3456 7890 123"),
    ("bank_card", "卡号6222021234567890"),
    ("bank_card", "银行卡：6217-0000-1111-2222"),
    # addresses
    ("address", "上海市浦东新区世纪大道8899号B座1701室"),
    ("address", "住在世纪大道 8899 号"),
    ("address", "世纪大道８８９９号"),
    ("address", "世纪大道八八九九号"),
    ("address", "B座1701室"),
    ("address", "在1701室等"),
    ("address", "阳光花园3栋2单元501"),
    ("address", "幸福小区12号"),
    ("address", "杭州市西湖区文三路477号"),
    ("address", "北京市朝阳区建国路"),
    ("address", "5号楼3单元"),
    ("address", "17楼1701"),
    ("address", "Room 1701, No. 8899 Century Avenue"),
    ("address", "8899 Century Avenue"),
    ("address", "Shiji Dadao 8899 Hao"),
    ("address", "南京西路1266弄"),
    # names
    ("name", "我是王小明"),
    ("name", "王 小 明投诉"),
    ("name", "王先生说"),
    ("name", "王女士"),
    ("name", "小明说空调坏了"),
    ("name", "王  小明"),
    ("name", "Wang Xiaoming complained"),
    ("name", "Xiaoming Wang"),
    ("name", "xiaoming says"),
    ("name", "Mr. Wang was told"),
    ("name", "Ms Wang"),
    ("name", "wang xiao ming"),
    ("name", "WANGXIAOMING"),
    ("name", "我叫李四"),
    ("name", "陈女士反映"),
    ("name", "姓名：赵六"),
    ("name", "老王打了三次电话"),
    ("name", "W.X.M."),
    # plates
    ("plate", "车牌沪A·12345"),
    ("plate", "粤B D12345"),
    ("plate", "京N12345"),
    ("plate", "浙A 8K8K8"),
    # accounts
    ("account", "微信 wxm_2026"),
    ("account", "QQ 12345678"),
    ("account", "vx: wangxm88"),
]

LATIN_HOSTILE = [
    "John Smith called",
    "Smith said",
    "Mr Smith",
    "Smith, John",
    "john says",
    "JOHN SMITH",
]

ORDINARY = [
    "空调安装后第三天就不制冷，维修师傅两次上门都没修好。",
    "型号 KFR-35GW/NhGa1BAj 的空调，2026-05-10 购买，价格 3999 元。",
    "洗衣机 XQG100-HBD14126L 滚筒异响，保修期内要求换货。",
    "冰箱 BCD-470WGHFDM1 冷藏室不制冷，已报修三次。",
    "显卡 RTX4090 到货即损坏，商家拒绝退货。",
    "2026年5月3号上门安装，5月10日又坏了。",
    "购买日期 2026.05.10，退款 1,299.00 元，运费 ¥15。",
    "客服热线 400-820-8820 一直占线，等了 45 分钟。",
    "维修时间从 2026-05-10 到 2026-05-20，共 10 天。",
    "要求退款 3999 元并赔偿 500 元。",
    "快递三天后才送到，外包装破损。",
    "iPhone 15 Pro 屏幕有坏点，店员态度差。",
    "门店在商场3楼，工作人员说要等两周。",
    "第2次维修后仍然漏水，要求换新机。",
    "安装师傅迟到了 3 个小时，还多收了 200 元材料费。",
    "承诺 24 小时内上门，实际等了 72 小时。",
    "旧家电回收承诺的 100 元补贴一直没有到账。",
    "产品说明书写的是 5 年质保，客服说只有 1 年。",
    "The repair took 3 weeks and the unit still leaks.",
    "Ordered on 2026-05-10, delivered 2026-05-20, price 2,499 CNY.",
    "我先生打电话给客服，客服说会回电，但一直没有。",
    "空调外机噪音 65 分贝，超过说明书标称的 55 分贝。",
    "电视 55E3G 开机黑屏，维修站说主板要 1200 元。",
    "热水器 JSQ30-16WN5 点火失败，上门费 50 元。",
    "投诉编号 TS260601-7KQ3PX 已经处理。",
    "2026-05-10 13:30 预约上门，师傅没有来。",
    "换货后新机仍有同样问题，第三次送修。",
    "企业答复：已安排工程师于 6 月 3 日上门检测。",
]


@pytest.mark.parametrize("kind, text", HOSTILE)
def test_hostile_variant_is_caught(kind, text):
    findings = find_personal_data(text, names=[CONSUMER], secrets=[ORDER])
    assert findings, f"missed {kind}: {text}"
    masked = mask_personal_data(text, names=[CONSUMER], secrets=[ORDER])
    assert REMOVED in masked


def test_hostile_table_has_at_least_sixty_variants():
    assert len(HOSTILE) >= 60


@pytest.mark.parametrize("text", LATIN_HOSTILE)
def test_latin_script_consumer_name_is_caught(text):
    assert find_personal_data(text, names=[LATIN_CONSUMER])


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_passes_unchanged(text):
    assert find_personal_data(text, names=[CONSUMER], secrets=[ORDER]) == []
    assert mask_personal_data(text, names=[CONSUMER], secrets=[ORDER]) == text


@pytest.mark.parametrize("text", ["劉曉東來電", "刘晓东", "曉東說", "Liu Xiaodong", "劉先生"])
def test_consumer_name_is_caught_in_traditional_characters_and_pinyin(text):
    assert find_personal_data(text, names=["刘晓东"])


def test_description_names_what_was_found():
    words = describe(find_personal_data("请打137.0011.2233，地址世纪大道8899号", names=[CONSUMER]))
    assert "137.0011.2233" in words and "8899" in words


def test_masking_keeps_the_surrounding_words():
    masked = mask_personal_data("空调坏了，电话13700112233，请回电。", names=[CONSUMER])
    assert masked == f"空调坏了，电话{REMOVED}，请回电。"


# ---------------------------------------------------------------- properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SEPARATORS = st.sampled_from(["", " ", ".", "-", "　", "。", " - ", "_"])
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def written_mobile(draw):
    digits = "1" + draw(st.sampled_from("3456789")) + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                                                          min_size=9, max_size=9)))
    groups = draw(st.sampled_from([(3, 4, 4), (3, 8), (11,), (3, 3, 5), (1,) * 11]))
    parts, i = [], 0
    for size in groups:
        parts.append(digits[i:i + size])
        i += size
    separator = draw(SEPARATORS)
    text = separator.join(parts)
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    prefix = draw(st.sampled_from(["", "+86 ", "86", "0086-", "+86"]))
    return prefix + text


@settings(max_examples=300, deadline=None)
@given(phone=written_mobile(), before=st.sampled_from(["", "电话", "请打", "联系我：", "手机号是"]),
       after=st.sampled_from(["", "。", "，谢谢", " 找我"]))
def test_every_written_mobile_number_is_caught(phone, before, after):
    text = f"空调坏了，{before}{phone}{after}"
    assert any(f.kind == "phone" for f in find_personal_data(text)), text
    assert phone not in mask_personal_data(text)


@settings(max_examples=200, deadline=None)
@given(year=st.integers(1950, 2010), month=st.integers(1, 12), day=st.integers(1, 28),
       area=st.integers(110000, 659999), tail=st.integers(0, 999), check=st.sampled_from("0123456789X"),
       separator=st.sampled_from(["", " "]))
def test_every_id_number_is_caught(year, month, day, area, tail, check, separator):
    number = f"{area}{separator}{year}{month:02d}{day:02d}{separator}{tail:03d}{check}"
    assert find_personal_data(f"身份证{number}") and find_personal_data(f"号码 {number} 。")


@settings(max_examples=200, deadline=None)
@given(local=st.from_regex(r"[a-z][a-z0-9._]{1,12}", fullmatch=True),
       domain=st.sampled_from(["example.org", "qq.com", "163.com", "mail.example.cn"]),
       form=st.sampled_from(["{l}@{d}", "{l} at {d}", "{l}[at]{d}", "{l}(at){d}", "{l}＠{d}", "{l} AT {d}"]))
def test_every_written_email_is_caught(local, domain, form):
    text = "邮箱 " + form.format(l=local, d=domain) + " 请回复"
    assert any(f.kind == "email" for f in find_personal_data(text)), text
