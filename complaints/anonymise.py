"""Scrub a complaint's texts before they enter the case library: the client's, project's and
people's names (also as 陈女士, 王总, "Ms Chen", "Wang Wei"), email addresses, phone numbers,
amounts and reference codes are replaced by markers in the text's own language.

`Anonymiser.identifying` finds what still names the client, its contacts or the staff involved,
so a text the publisher edited can be refused rather than published."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.text import Truncator

from accounts.models import User
from finance_projects.models import NOTE_MAX_CHARS, Contact

from .models import Complaint, ComplaintEvent, FollowUpVisit, RecoveryAction

CJK_CHAR = r"\u3400-\u9fff"
CJK = re.compile(rf"[{CJK_CHAR}]")
LATIN_WORD = re.compile(r"[A-Za-z]+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
REFERENCE = re.compile(r"\b(?:CP|PF)-[\w-]+\b", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w.])\+?\d(?:[\s-]?\d){6,}(?![\w.])")
_NUMBER = r"\d[\d,，]*(?:\.\d+)?"
_UNIT = (
    r"(?:万元|亿元|元|万|亿|千|k\b|m\b|bn\b|million\b|billion\b|yuan\b"
    r"|CNY\b|RMB\b|USD\b|EUR\b|GBP\b|HKD\b|JPY\b|SGD\b)"
)
AMOUNT = re.compile(
    rf"(?:(?:CNY|RMB|USD|EUR|GBP|HKD|JPY|SGD|[¥￥$€£])\s?{_NUMBER}(?:\s?{_UNIT})?)|(?:{_NUMBER}\s?{_UNIT})|(?:\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?)",
    re.IGNORECASE,
)

# One language per text: Chinese markers in Chinese text, English ones in English text.
MARKERS = {
    "zh": {
        "client": "【客户】",
        "project": "【项目】",
        "person": "【某人】",
        "email": "【邮箱】",
        "phone": "【电话】",
        "amount": "【金额】",
        "reference": "【编号】",
    },
    "en": {
        "client": "[client]",
        "project": "[project]",
        "person": "[person]",
        "email": "[email]",
        "phone": "[phone]",
        "amount": "[amount]",
        "reference": "[ref]",
    },
}

# How a person is addressed after the surname (王总, 陈女士); longest first.
ZH_TITLES = (
    "董事长|总经理|会计师|董事|总监|经理|主任|主管|女士|先生|小姐|老师|律师|博士|教授|行长|处长|科长"
    "|部长|局长|会计|董|总(?![部监经行额体计数裁结共之包量价署工会局站院台账帐则纲论值成算督理务投金规费]"
    "|是(?!否))"
)
COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|夏侯|端木|司徒|长孙"
# Common single-character surnames. Characters that mostly precede a title as part of another
# word (和经理, 向总, 于总: "and", "to", "at") are left out.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严"
    "覃武戴莫孔汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚"
    "符舒阮柯纪梅童凌毕单季裴霍涂苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤穆卓古"
    "吉缪简车项连麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋刁沙荣巫寇桑郎甄"
    "丛仲虞敖巩佘池查苑迟邝万"
)
# A surname after one of these characters is part of a word, not a name: 基金经理, 工程经理,
# 公关经理, 招商经理, 贸易经理, 英文老师, 中方经理.
NOT_AFTER = {
    "金": "基资现租押奖薪黄",
    "程": "工流课议进日规",
    "关": "公海机相",
    "商": "招厂电客供协",
    "易": "贸交容简",
    "文": "中英外公发行",
    "方": "中外双对我贷各多甲乙",
    "安": "保公治平",
    "高": "最提",
    "华": "中繁精",
    "江": "长",
    "宁": "南",
}


def _after_ok(surname: str) -> str:
    before = NOT_AFTER.get(surname)
    return f"(?<![{before}])" if before else ""


# Any common surname with a title: 陈女士, 王经理, 欧阳总.
_PLAIN_SURNAMES = "".join(char for char in SURNAMES if char not in NOT_AFTER)
ZH_TITLED_NAME = re.compile(
    "|".join(
        [
            rf"(?:{COMPOUND_SURNAMES})(?:{ZH_TITLES})",
            *(rf"{_after_ok(surname)}{surname}(?:{ZH_TITLES})" for surname in NOT_AFTER),
            rf"[{_PLAIN_SURNAMES}](?:{ZH_TITLES})",
        ]
    )
)
EN_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Madam|Madame)\.?"
EN_TITLED_NAME = re.compile(rf"\b{EN_TITLES}\s+[A-Z][A-Za-z'’-]+(?:\s+[A-Z][A-Za-z'’-]+)?")

# Company suffixes a short name leaves off, and words too common to stand for one client alone.
ZH_COMPANY_SUFFIX = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|股份公司|集团|控股|公司|股份)$")
EN_COMPANY_SUFFIX = re.compile(
    r"[\s,.]*\b(?:Co\.?,?\s*Ltd|Company\s+Limited|Co|Ltd|Limited|Inc|Incorporated|Corp|Corporation"
    r"|PLC|LLC|LLP|Group|Holdings?)\.?\s*$",
    re.IGNORECASE,
)
ZH_GENERIC = {
    "中国", "中华", "国家", "国际", "全国", "北京", "上海", "天津", "重庆", "广东", "广州", "深圳", "江苏",
    "浙江", "山东", "河北", "河南", "湖北", "湖南", "四川", "福建", "安徽", "江西", "山西", "陕西", "辽宁",
    "吉林", "黑龙江", "内蒙古", "新疆", "西藏", "云南", "贵州", "广西", "海南", "甘肃", "青海", "宁夏",
    "香港", "澳门",
}  # fmt: skip
EN_GENERIC = {
    "the", "and", "china", "chinese", "national", "state", "new", "great", "general", "international",
    "global", "asia", "pacific", "united", "first", "capital", "energy", "power", "water", "gas", "ports",
    "port", "data", "solar", "wind", "green", "city", "bank", "client", "project", "group", "phase",
    "renewables", "renewable", "transport", "investment", "infrastructure",
}  # fmt: skip
EN_STOPWORDS = {"ltd", "limited", "the", "and", "co", "inc", "plc", "llc", "mr", "mrs", "ms", "dr"}


def language_of(text: str) -> str | None:
    """ "zh" or "en" by what most of the text is written in; None when it has no words."""
    cjk, latin = len(CJK.findall(text or "")), len(LATIN_WORD.findall(text or ""))
    if not cjk and not latin:
        return None
    return "zh" if cjk >= latin else "en"


def _surname_of(name: str) -> str:
    compound = re.match(COMPOUND_SURNAMES, name)
    if compound and len(name) > 2:
        return compound.group(0)
    return name[0]


def _latin_forms(words: list[str]) -> list[str]:
    """A Latin name in both orders: "Wei Wang" and "Wang Wei"."""
    words = [word for word in words if word]
    if len(words) < 2:
        return []
    forms = [" ".join(words), " ".join(reversed(words))]
    return list(dict.fromkeys(forms))


def _name_words(local: str) -> list[str]:
    """The name in an email's local part or a username: "fang.chen.0" → ["fang", "chen"]."""
    if not re.search(r"[._-]", local):
        return []
    words = [word for word in re.split(r"[._-]+", local) if word.isalpha()]
    return words if 2 <= len(words) <= 3 else []


def _cjk_prefixes(name: str) -> list[str]:
    """A short name (no company suffix) and, when it has 4+ characters, its distinctive
    beginnings: 龙源水务有限公司 → 龙源水务, 龙源水, 龙源."""
    short = name
    while (stripped := ZH_COMPANY_SUFFIX.sub("", short)) != short and len(stripped) >= 2:
        short = stripped
    forms = [short] if len(short) >= 2 else []
    for generic in sorted(ZH_GENERIC, key=len, reverse=True):
        if short.startswith(generic) and len(short) - len(generic) >= 2:
            forms.append(short[len(generic) :])
            break
    for form in list(forms):
        if len(form) >= 4:
            forms += [form[:size] for size in range(len(form) - 1, 1, -1)]
    return [form for form in dict.fromkeys(forms) if form not in ZH_GENERIC]


def _latin_short_forms(name: str) -> list[str]:
    """A short name (no "Co., Ltd.") and its beginnings of whole words: "Huaneng Renewables Co.,
    Ltd." → "Huaneng Renewables", "Huaneng"; a single common word ("China") is left alone."""
    short = name.strip(" ,.")
    while (stripped := EN_COMPANY_SUFFIX.sub("", short).strip(" ,.")) != short and stripped:
        short = stripped
    words = short.split()
    forms = [short] if short else []
    for size in range(len(words) - 1, 0, -1):
        head = words[:size]
        if all(word.lower() in EN_GENERIC or not word.isalpha() for word in head):
            continue
        if size == 1 and len(head[0]) < 3:
            continue
        forms.append(" ".join(head))
    return list(dict.fromkeys(forms))


@dataclass(frozen=True)
class Term:
    pattern: re.Pattern
    kind: str
    weight: int  # longer literals are replaced first
    # Whether a text still holding it is refused: a project's shorter forms ("Solar farm") are
    # scrubbed but may be written on purpose.
    refuse: bool = True


def _literal(
    text: str, kind: str, *, titled: bool = False, ignore_case: bool = True, refuse: bool = True
) -> Term:
    escaped = re.escape(text)
    if CJK.search(text):
        source = escaped
    else:
        if titled:
            escaped = rf"(?:{EN_TITLES}\s+)?{escaped}"
        source = rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
    return Term(re.compile(source, re.IGNORECASE if ignore_case else 0), kind, len(text), refuse)


def _phone(phone: str) -> Term | None:
    """A known phone number however it is spaced: "+86 138 0013 8000", "138-0013-8000"."""
    digits = re.sub(r"\D", "", phone)
    national = digits[2:] if phone.strip().startswith("+86") and len(digits) > 9 else digits
    if len(national) < 7:
        return None
    spaced = r"[\s-]?".join(national)
    return Term(re.compile(rf"(?<!\d)(?:\+?\d{{1,3}}[\s-]?)?{spaced}(?!\d)"), "phone", len(phone))


def _person(name: str) -> list[Term]:
    """A person's name as written, with or without a title; a Chinese name's surname with a title
    (陈女士); a Latin name in both orders and its longer words alone, capitalised."""
    name = " ".join(name.split())
    if not name:
        return []
    terms = []
    for segment in re.findall(rf"[{CJK_CHAR}]{{2,}}", name):
        surname = _surname_of(segment)
        terms.append(Term(re.compile(rf"{re.escape(segment)}(?:{ZH_TITLES})?"), "person", len(segment) + 2))
        terms.append(
            Term(re.compile(rf"{_after_ok(surname)}{re.escape(surname)}(?:{ZH_TITLES})"), "person", 2)
        )
    latin = LATIN_WORD.findall(name)
    if latin:
        for form in _latin_forms(latin) or [" ".join(latin)]:
            terms.append(_literal(form, "person", titled=True))
        for word in latin:
            if len(word) >= 3 and word.lower() not in EN_STOPWORDS:
                terms.append(_literal(word[0].upper() + word[1:], "person", titled=True, ignore_case=False))
    return terms


def _pinyin_person(words: list[str]) -> list[Term]:
    return [_literal(form, "person", titled=True) for form in _latin_forms([w.capitalize() for w in words])]


def _organisation(name: str, kind: str) -> list[Term]:
    name = " ".join((name or "").split())
    if not name:
        return []
    terms = [_literal(name, kind)]
    refuse = kind == "client"
    for segment in re.findall(rf"[{CJK_CHAR}]+", name):
        terms += [_literal(form, kind, refuse=refuse) for form in _cjk_prefixes(segment)]
    latin = CJK.sub(" ", name)
    latin = " ".join(re.sub(r"[（）()]", " ", latin).split())
    if LATIN_WORD.search(latin):
        for form in _latin_short_forms(latin):
            single = " " not in form
            terms.append(_literal(form, kind, ignore_case=not single, refuse=refuse))
    return terms


def _staff_involved(complaint: Complaint) -> Iterable[User]:
    project = complaint.project
    ids = {
        project.relationship_manager_id,
        project.client.relationship_manager_id,
        complaint.owner_id,
        complaint.created_by_id,
        complaint.rm_handling_approved_by_id,
        complaint.compensation_approved_by_id,
    } - {None}
    return User.objects.filter(
        Q(pk__in=ids)
        | Q(pk__in=ComplaintEvent.objects.filter(complaint=complaint).values("actor_id"))
        | Q(pk__in=RecoveryAction.objects.filter(complaint=complaint).values("owner_id"))
        | Q(pk__in=FollowUpVisit.objects.filter(complaint=complaint).values("done_by_id"))
    ).only("username", "first_name", "last_name", "email")


class Anonymiser:
    """What is known to identify one complaint's client and people, and how to replace it."""

    def __init__(self, complaint: Complaint):
        self.complaint = complaint
        project = complaint.project
        terms = _organisation(project.client.name, "client") + _organisation(project.name, "project")
        if project.code:
            terms.append(_literal(project.code, "reference"))
        emails = []
        for name, email, phone in Contact.objects.filter(client_id=project.client_id).values_list(
            "name", "email", "phone"
        ):
            terms += _person(name)
            emails.append(email)
            if email:
                terms += _pinyin_person(_name_words(email.split("@")[0]))
            if phone and (term := _phone(phone)):
                terms.append(term)
        for user in _staff_involved(complaint):
            terms += _person(user.get_full_name())
            terms += _pinyin_person(_name_words(user.username))
            if "." in user.username or "_" in user.username:
                terms.append(_literal(user.username, "person"))
            emails.append(user.email)
        terms += [_literal(email, "email") for email in emails if email]
        self.known = sorted(terms, key=lambda term: term.weight, reverse=True)

    def scrub(self, text: str, language: str | None = None) -> str:
        if not text:
            return ""
        markers = MARKERS[language or language_of(text) or "zh"]
        text = EMAIL.sub(markers["email"], text)
        for term in self.known:
            text = term.pattern.sub(markers[term.kind], text)
        text = REFERENCE.sub(markers["reference"], text)
        dates = ISO_DATE.findall(text)
        text = ISO_DATE.sub("\0", text)
        text = AMOUNT.sub(markers["amount"], text)
        text = PHONE.sub(markers["phone"], text)
        for date in dates:
            text = text.replace("\0", date, 1)
        text = ZH_TITLED_NAME.sub(markers["person"], text)
        return EN_TITLED_NAME.sub(markers["person"], text)

    __call__ = scrub

    def identifying(self, text: str) -> list[str]:
        """The known names, email addresses and phone numbers still in `text`, as written there."""
        found = []
        for term in self.known:
            if not term.refuse:
                continue
            for match in term.pattern.finditer(text or ""):
                if match.group(0) not in found:
                    found.append(match.group(0))
        return found

    def narratives(self) -> dict[str, str]:
        """What happened, from the client's words and the response, scrubbed: each line goes to
        the narrative of its own language, so none is passed off as the other."""
        parts = {"zh": [], "en": []}
        for source in (self.complaint.description, self.complaint.response_text):
            lines = {"zh": [], "en": []}
            current = language_of(source) or "zh"
            for line in (source or "").strip().splitlines():
                current = language_of(line) or current
                lines[current].append(line)
            for language, kept in lines.items():
                text = "\n".join(kept).strip()
                if text:
                    parts[language].append(self.scrub(text, language))
        return {
            language: Truncator("\n\n".join(texts)).chars(NOTE_MAX_CHARS) for language, texts in parts.items()
        }


def anonymiser_for(complaint: Complaint) -> Anonymiser:
    return Anonymiser(complaint)
