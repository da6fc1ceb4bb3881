"""Scrub a complaint's texts before they enter the case library: the client's, project's and
people's names, email addresses, phone numbers, amounts and reference codes are replaced."""

import re
from collections.abc import Callable

from finance_projects.models import Contact

from .models import Complaint

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
CJK = re.compile(r"[\u3400-\u9fff]")

PLACEHOLDERS = {
    "client": "[客户 client]",
    "project": "[项目 project]",
    "person": "[某人 person]",
    "email": "[邮箱 email]",
    "phone": "[电话 phone]",
    "amount": "[金额 amount]",
    "reference": "[编号 ref]",
}


def _name_patterns(name: str) -> list[re.Pattern]:
    """The whole name and each meaningful part of it (a CJK run of 2+ characters, a Latin word
    of 3+ letters), longest first, matched without regard to case."""
    parts = {name.strip()}
    for part in re.split(r"[\s()（）,，/·]+", name):
        part = part.strip()
        if (CJK.search(part) and len(part) >= 2) or (
            len(part) >= 3
            and part.lower() not in {"ltd", "limited", "the", "and", "co.", "inc", "plc", "llc"}
        ):
            parts.add(part)
    patterns = []
    for part in sorted(filter(None, parts), key=len, reverse=True):
        escaped = re.escape(part)
        patterns.append(
            re.compile(
                escaped if CJK.search(part) else rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])", re.IGNORECASE
            )
        )
    return patterns


def anonymiser_for(complaint: Complaint) -> Callable[[str], str]:
    project = complaint.project
    client = project.client
    people = list(Contact.objects.filter(client_id=client.pk).values_list("name", "email", "phone"))
    staff = [
        user
        for user in (project.relationship_manager, client.relationship_manager, complaint.owner)
        if user is not None
    ]
    names: list[tuple[str, str]] = [
        (client.name, "client"),
        (project.name, "project"),
        (project.code, "reference"),
    ]
    names += [(name, "person") for name, _email, _phone in people]
    names += [(user.get_full_name(), "person") for user in staff] + [
        (user.username, "person") for user in staff
    ]
    literals = [(email, "email") for _n, email, _p in people if email]
    literals += [(phone, "phone") for _n, _e, phone in people if phone]
    patterns = [(re.compile(re.escape(value), re.IGNORECASE), kind) for value, kind in literals]
    for value, kind in names:
        if value and value.strip():
            patterns += [(pattern, kind) for pattern in _name_patterns(value)]

    def scrub(text: str) -> str:
        if not text:
            return ""
        text = EMAIL.sub(PLACEHOLDERS["email"], text)
        for pattern, kind in patterns:
            text = pattern.sub(PLACEHOLDERS[kind], text)
        text = REFERENCE.sub(PLACEHOLDERS["reference"], text)
        dates = ISO_DATE.findall(text)
        text = ISO_DATE.sub("\0", text)
        text = AMOUNT.sub(PLACEHOLDERS["amount"], text)
        text = PHONE.sub(PLACEHOLDERS["phone"], text)
        for date in dates:
            text = text.replace("\0", date, 1)
        return text

    return scrub
