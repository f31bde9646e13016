"""The personal-data detector: one definition of what may not be published about a consumer (PIPL Art 25).

Every public text of a complaint (a moderator's summary) is refused while `find_personal_data` finds
anything in it, and the company's view of the consumer's own words passes through `mask_personal_data`.
It finds phone numbers (phonenumbers' matcher for CN numbers, plus digits written with spaces, dots,
full-width or Chinese numerals), e-mail addresses (also written "x at example dot org", [at], ＠),
PRC ID numbers, order and invoice numbers, bank card numbers, street addresses (road + number,
building, unit, room, also in English and pinyin), licence plates, social accounts, and the
consumer's name: in full, the surname with 先生/女士, the given name alone, in simplified or
traditional characters and in pinyin or Latin script.

Pure: no Flask, no database. Precision matters less than recall: a false alarm costs a moderator one
rephrasing; a miss publishes a person. Ordinary complaint words (product models, dates, prices) pass,
pinned by the table in tests/unit/test_privacy.py.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from flask_babel import lazy_gettext as _l

REMOVED = "〔已删除〕"

KIND_LABELS = {
    "phone": _l("a phone number"),
    "email": _l("an e-mail address"),
    "id_number": _l("an ID card number"),
    "order_number": _l("an order or invoice number"),
    "bank_card": _l("a bank card number"),
    "address": _l("a street address"),
    "name": _l("the consumer's name"),
    "plate": _l("a licence plate"),
    "account": _l("a chat or social account"),
}


@dataclass(frozen=True)
class Finding:
    kind: str      # a key of KIND_LABELS
    start: int     # span in the original text
    end: int
    text: str


# ---------------------------------------------------------------- folding (index-preserving)

_CN_DIGITS = str.maketrans("〇零一幺二两三四五六七八九", "0011223456789")


def _fold(text: str) -> str:
    """Full-width → half-width character by character, so every index still points into the original."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


# ---------------------------------------------------------------- digits: phones, IDs, cards, order numbers

_DATE = re.compile(r"(?:19|20)\d{2}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?|\d{1,2}\s*:\s*\d{2}")
# Digits with at most three separator characters between them ("137 - 0011"): 137.0011.2233, 137 0011 2233, 1-3-7…
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s.\-·•_/—–()（）。]{0,3}\d)*[Xx]?")
_MOBILE_CORE = re.compile(r"1[3-9]\d{9}")
_PHONE_WORD = re.compile(r"(?:电话|手机|联系|致电|tel|phone|mobile|call)\D{0,4}$", re.IGNORECASE)
_BUSINESS_TYPES = {phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.SHARED_COST,
                   phonenumbers.PhoneNumberType.UAN, phonenumbers.PhoneNumberType.PREMIUM_RATE}


def _is_id_number(digits: str) -> bool:
    if len(digits) == 18:
        year, month = digits[6:10], digits[10:12]
        return year[:2] in ("19", "20") and "01" <= month <= "12"
    if len(digits) == 15 and digits.isdigit():
        return "01" <= digits[8:10] <= "12"
    return False


def _classify_run(digits: str, separated: bool, before: str) -> str | None:
    plain = digits.lstrip("+")
    upper = plain.upper()
    if upper.endswith("X"):
        return "id_number" if _is_id_number(upper) else None
    for prefix in ("0086", "86"):
        if plain.startswith(prefix) and _MOBILE_CORE.fullmatch(plain[len(prefix):]):
            return "phone"
    if _MOBILE_CORE.fullmatch(plain):
        return "phone"
    if len(plain) in (15, 18) and _is_id_number(plain):
        return "id_number"
    if 16 <= len(plain) <= 19:
        return "bank_card"
    if plain.startswith("0") and 10 <= len(plain) <= 12:
        return "phone"   # a landline with its area code: 021 6888 1234
    if _MOBILE_CORE.search(plain):
        return "phone"
    if not separated and len(plain) >= 10:
        return "order_number"
    if 7 <= len(plain) <= 8 and _PHONE_WORD.search(before):
        return "phone"   # a local number after 电话/tel
    return None


def _digit_findings(folded: str, original: str) -> list[Finding]:
    view = list(folded.translate(_CN_DIGITS))
    for match in _DATE.finditer("".join(view)):      # dates and times are not numbers to hide
        for i in range(match.start(), match.end()):
            if view[i].isdigit():
                view[i] = "#"
    view = "".join(view)
    found = []
    for match in _DIGIT_RUN.finditer(view):
        raw = match.group(0)
        digits = re.sub(r"[^0-9Xx+]", "", raw)
        if len(digits.lstrip("+")) < 7:
            continue
        kind = _classify_run(digits, separated=len(digits) != len(raw), before=view[max(0, match.start() - 8):match.start()])
        if kind:
            found.append(Finding(kind, match.start(), match.end(), original[match.start():match.end()]))
    try:
        matches = list(phonenumbers.PhoneNumberMatcher(folded, "CN", leniency=phonenumbers.Leniency.VALID))
    except Exception:  # the matcher is a safety net over the runs above, never a reason to fail
        matches = []
    for match in matches:
        if phonenumbers.number_type(match.number) not in _BUSINESS_TYPES:
            found.append(Finding("phone", match.start, match.end, original[match.start:match.end]))
    return found


# ---------------------------------------------------------------- words: e-mail, orders, cards, plates, accounts

_TLDS = ("com", "cn", "net", "org", "edu", "gov", "io", "me", "info", "biz", "co", "top", "xyz", "cc", "hk", "tw",
         "uk", "de", "jp", "us", "mail", "vip", "site", "online", "email", "test")
_AT = r"(?:@|\(\s*at\s*\)|\[\s*at\s*\]|\{\s*at\s*\}|<\s*at\s*>|【\s*at\s*】|（\s*at\s*）|\s+at\s+|艾特|圈a|#)"
_DOT = r"(?:\.|。|\(\s*dot\s*\)|\[\s*dot\s*\]|\{\s*dot\s*\}|（\s*dot\s*）|\s+dot\s+|点)"
_EMAIL = re.compile(rf"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]*)\s*({_AT})\s*([A-Za-z0-9\-]+(?:\s*{_DOT}\s*[A-Za-z0-9\-]+)+)",
                    re.IGNORECASE)
_ORDER_WORD = re.compile(
    r"(?:订单编号|订单号码|订单号|订单|单号|发票号码|发票代码|发票号|发票|运单号|运单|快递单号|快递单|工单号|工单|合同号|流水号|交易号|"
    r"序列号|SN码|order|invoice|receipt|tracking|serial)\s*(?:号码|编号|号|no\.?|number|num|#|:|：|是|为|\s)*\s*"
    r"([A-Za-z0-9][A-Za-z0-9\-]{3,}[A-Za-z0-9])", re.IGNORECASE)
_MIXED_CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9\-]*[A-Za-z])(?=(?:[A-Za-z\-]*\d){10})[A-Za-z0-9\-]{10,}(?![A-Za-z0-9])")
_CARD_WORD = re.compile(r"(?:银行卡号|银行卡|卡号|银行账号|账号|帐号|账户|户名|card(?:\s*no\.?)?)\s*[:：号是为]?\s*(\d[\d\s\-]{7,}\d)",
                        re.IGNORECASE)
_ID_WORD = re.compile(r"(?:身份证号码|身份证号|身份证|证件号|ID\s*(?:card|no\.?|number))\s*[:：号是为]?\s*([0-9][0-9\s\-]{6,}[0-9Xx])",
                      re.IGNORECASE)
_PLATE = re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Za-hj-np-z]\s?[·•.\-]?\s?"
                    r"(?=(?:[A-Za-z]*\d){3})[A-HJ-NP-Za-hj-np-z0-9]{5,6}(?![A-Za-z0-9])")
_ACCOUNT = re.compile(r"(?:微信号|微信|QQ号|QQ|wechat|weixin|vx|wx|抖音号|微博)\s*(?:id|号)?\s*[:：是为]?\s*([A-Za-z0-9][A-Za-z0-9_\-]{4,})",
                      re.IGNORECASE)


def _pattern_findings(folded: str, original: str) -> list[Finding]:
    found = []
    for match in _EMAIL.finditer(folded):
        separator, domain = match.group(2).strip().lower(), match.group(3)
        last_label = re.split(r"\s*" + _DOT + r"\s*", domain, flags=re.IGNORECASE)[-1].lower()
        if separator == "@" or last_label in _TLDS:
            found.append(Finding("email", match.start(), match.end(), original[match.start():match.end()]))
    for pattern, kind, needs_digit in ((_ORDER_WORD, "order_number", True), (_CARD_WORD, "bank_card", False),
                                       (_ID_WORD, "id_number", False), (_ACCOUNT, "account", False)):
        for match in pattern.finditer(folded):
            code = match.group(1)
            if needs_digit and sum(c.isdigit() for c in code) < 4:
                continue
            found.append(Finding(kind, match.start(1), match.end(1), original[match.start(1):match.end(1)]))
    for match in _MIXED_CODE.finditer(folded):
        found.append(Finding("order_number", match.start(), match.end(), original[match.start():match.end()]))
    for match in _PLATE.finditer(folded):
        found.append(Finding("plate", match.start(), match.end(), original[match.start():match.end()]))
    return found


# ---------------------------------------------------------------- street addresses

_NUM = r"[0-9〇零一二三四五六七八九十百千两]+"
_HAN_NAME = r"[^\W\d_的在是了我住家和与及到从往向去来过把被给让对着地得也都就还又]"   # CJK, not a function word
_ADDRESS_PATTERNS = [
    # road + number: 世纪大道8899号, 文三路 477 号, 长安街1号, 12弄
    re.compile(rf"(?:{_HAN_NAME}{{0,12}})(?:路|大道|大街|街|巷|弄|胡同|公路)\s*{_NUM}\s*(?:号|弄|巷|支弄)"),
    # province/city/district + a named road or street: 浦东新区世纪大道
    re.compile(rf"(?:省|自治区|市|区|县|旗)\s*{_HAN_NAME}{{2,8}}(?:路|大道|大街|街道|街|巷|胡同|镇|乡|村)"),
    # building, unit, room: 5号楼, 3栋, B座1701室, 2单元, 1701室, 17楼1701
    re.compile(rf"{_NUM}\s*(?:号楼|栋|幢|座)(?:\s*{_NUM}\s*(?:单元|室|房|号|楼))*"),
    re.compile(rf"(?<![A-Za-z])[A-Za-z]\s*(?:座|栋|幢)\s*(?:{_NUM}\s*(?:室|房|号|楼)?)?"),
    re.compile(rf"{_NUM}\s*单元(?:\s*{_NUM}\s*(?:室|房|号)?)?"),
    re.compile(rf"{_NUM}\s*(?:室|房)(?![间子屋东产价])"),
    re.compile(rf"{_NUM}\s*[楼层]\s*{_NUM}\s*(?:室|房|号)?"),
    # a residential estate with a number: 阳光花园3期, 幸福小区12号
    re.compile(rf"{_HAN_NAME}{{2,8}}(?:小区|花园|公寓|新村|家园|苑|大厦|社区|村)\s*{_NUM}\s*(?:号|期|栋|幢|组|排)?"),
    # English and pinyin: No. 8899 Century Avenue, Room 1701, Shiji Dadao 8899 Hao
    re.compile(r"\b(?:No\.?\s*)?\d+[A-Za-z]?,?\s+(?:[A-Z][A-Za-z]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|"
               r"Boulevard|Blvd|Alley|Dadao|Lu|Jie|Hutong|Xiang)\b\.?"),
    re.compile(r"\b(?:[A-Z][A-Za-z]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Boulevard|Blvd|Dadao|Lu|Jie)\.?,?\s*"
               r"(?:No\.?\s*)?\d+(?:\s*Hao)?\b"),
    re.compile(r"\b(?:Room|Rm|Flat|Apt|Apartment|Unit|Suite)\.?\s*#?\s*\d+[A-Za-z]?\b", re.IGNORECASE),
    re.compile(r"\b(?:Building|Bldg|Block|Tower)\.?\s*#?\s*[A-Z0-9]\d*\b"),
    re.compile(r"\b\d+\s*Hao\b", re.IGNORECASE),
]


def _address_findings(folded: str, original: str) -> list[Finding]:
    found = []
    for pattern in _ADDRESS_PATTERNS:
        for match in pattern.finditer(folded):
            found.append(Finding("address", match.start(), match.end(), original[match.start():match.end()]))
    return found


# ---------------------------------------------------------------- names

COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
                     "司徒", "夏侯", "轩辕", "端木", "西门", "南宫", "独孤", "澹台", "呼延", "申屠")
COMMON_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
                   "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
                   "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
                   "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项"
                   "連劉陳楊黃趙吳周張鄭謝韓馮鄧蕭許蘇葉盧錢龔鄒閆賈顧")
_HONORIFIC = r"(?:先生|女士|小姐|太太|夫人|阿姨|大爷|大妈|大哥|大姐|老师|同学|总|经理)"
_LATIN_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mister|Madam|Mx|Dr|Sir)\.?"
_GENERIC_NAME = [
    re.compile(rf"[{COMMON_SURNAMES}]{_HONORIFIC.replace('|总|经理', '')}"),
    re.compile(rf"\b{_LATIN_TITLE}\s+[A-Z][a-z]+\b"),
    re.compile(r"(?:我叫|姓名|联系人|名字叫|本人姓名|署名)\s*[:：是为]?\s*[\u4e00-\u9fff·]{2,4}"),
    re.compile(r"\b(?:my name is|I am called|contact person|name)\s*:?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?", re.IGNORECASE),
]
_SEP = r"[\s·.\-_*]{0,2}"


@functools.lru_cache(maxsize=1)
def _opencc():
    from opencc import OpenCC
    return OpenCC("s2t"), OpenCC("t2s")


def _han_variants(text: str) -> set[str]:
    s2t, t2s = _opencc()
    return {text, s2t.convert(text), t2s.convert(text)}


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name; compound surnames (欧阳) are kept whole."""
    name = re.sub(r"\s+", "", name)
    for compound in COMPOUND_SURNAMES:
        if name.startswith(compound) and len(name) > len(compound):
            return compound, name[len(compound):]
    return name[:1], name[1:]


@functools.lru_cache(maxsize=256)
def name_patterns(name: str) -> tuple[re.Pattern, ...]:
    """Every way the consumer's name may be written: full, surname + title, given name alone, pinyin."""
    name = _fold(" ".join((name or "").split()))
    if not name:
        return ()
    patterns: list[str] = []
    if re.search(r"[\u4e00-\u9fff]", name):
        from pypinyin import lazy_pinyin
        compact = re.sub(r"[\s·.]", "", name)
        for variant in _han_variants(compact):
            surname, given = split_name(variant)
            patterns.append(_SEP.join(map(re.escape, variant)))
            patterns.append(re.escape(surname) + rf"\s*{_HONORIFIC}")
            patterns.append(rf"[小老阿]{re.escape(surname)}")
            if len(given) >= 2:
                patterns.append(_SEP.join(map(re.escape, given)))
        surname, given = split_name(compact)
        sur_py, given_py = lazy_pinyin(surname), lazy_pinyin(given)
        sur_word = r"[\s\-]?".join(sur_py)
        given_word = r"[\s\-']?".join(given_py)
        if given_py:
            patterns.append(rf"\b{sur_word}[\s\-,.]*{given_word}\b")
            patterns.append(rf"\b{given_word}[\s\-,.]*{sur_word}\b")
            if len("".join(given_py)) >= 4:
                patterns.append(rf"\b{given_word}\b")
        patterns.append(rf"\b{_LATIN_TITLE}\s*{sur_word}\b")
        patterns.append(rf"\b{sur_word}\s*{_HONORIFIC}")
        initials = "".join(p[0] for p in sur_py + given_py)
        if len(initials) >= 3:
            spaced = r"[.\s]?".join(initials)
            patterns.append(rf"\b{spaced}\b\.?")
    else:
        tokens = [t for t in re.split(r"[\s,.\-]+", name) if t]
        patterns.append(r"[\s,.\-]*".join(map(re.escape, tokens)))
        if len(tokens) > 1:
            patterns.append(r"[\s,.\-]*".join(map(re.escape, reversed(tokens))))
        for token in tokens:
            if len(token) >= 3:
                patterns.append(rf"(?<![A-Za-z]){re.escape(token)}(?![A-Za-z])")
            patterns.append(rf"\b{_LATIN_TITLE}\s*{re.escape(token)}\b")
            patterns.append(rf"{re.escape(token)}\s*{_HONORIFIC}")
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def _name_findings(folded: str, original: str, names: Iterable[str]) -> list[Finding]:
    found = []
    for name in names:
        for pattern in name_patterns(name or ""):
            for match in pattern.finditer(folded):
                if match.end() > match.start():
                    found.append(Finding("name", match.start(), match.end(), original[match.start():match.end()]))
    for pattern in _GENERIC_NAME:
        for match in pattern.finditer(folded):
            found.append(Finding("name", match.start(), match.end(), original[match.start():match.end()]))
    return found


def _secret_findings(folded: str, original: str, secrets: Iterable[str]) -> list[Finding]:
    """Known private strings (the order number, the e-mail), also with spaces or dashes inside."""
    found = []
    for secret in secrets:
        compact = re.sub(r"[\s\-]", "", _fold(secret or ""))
        if len(compact) < 4:
            continue
        if compact.startswith("+86"):
            compact = compact[3:]
        pattern = re.compile(r"[\s\-]{0,2}".join(map(re.escape, compact)), re.IGNORECASE)
        for match in pattern.finditer(folded):
            found.append(Finding("order_number" if "@" not in compact else "email", match.start(), match.end(),
                                 original[match.start():match.end()]))
    return found


# ---------------------------------------------------------------- the interface

def find_personal_data(text: str, *, names: Iterable[str] = (), secrets: Iterable[str] = ()) -> list[Finding]:
    """Every piece of personal data in `text`, in reading order, overlaps merged into the first kind found.

    `names` are the consumer's names (any script); `secrets` are exact private strings to find as well
    (the order number, the e-mail address, the mobile number).
    """
    text = text or ""
    folded = _fold(text)
    names, secrets = list(names), list(secrets)
    found = (_digit_findings(folded, text) + _pattern_findings(folded, text) + _address_findings(folded, text)
             + _name_findings(folded, text, names) + _secret_findings(folded, text, secrets))
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    merged: list[Finding] = []
    for finding in found:
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            if finding.end > last.end:
                merged[-1] = Finding(last.kind, last.start, finding.end, text[last.start:finding.end])
            continue
        merged.append(finding)
    return merged


def has_personal_data(text: str, *, names: Iterable[str] = (), secrets: Iterable[str] = ()) -> bool:
    return bool(find_personal_data(text, names=names, secrets=secrets))


def mask_personal_data(text: str, *, names: Iterable[str] = (), secrets: Iterable[str] = (),
                       placeholder: str = REMOVED) -> str:
    """`text` with every finding replaced by the placeholder (the company's view of the consumer's words)."""
    text = text or ""
    out, position = [], 0
    for finding in find_personal_data(text, names=names, secrets=secrets):
        out.append(text[position:finding.start])
        out.append(placeholder)
        position = finding.end
    out.append(text[position:])
    return "".join(out)


def describe(findings: Iterable[Finding], limit: int = 5) -> str:
    """What was found, for the refusal message: 'a phone number (“137.0011.2233”), a street address (…)'."""
    parts = []
    for finding in list(findings)[:limit]:
        snippet = finding.text if len(finding.text) <= 40 else finding.text[:39] + "…"
        parts.append(f"{KIND_LABELS.get(finding.kind, finding.kind)} (“{snippet}”)")
    return "; ".join(parts)
