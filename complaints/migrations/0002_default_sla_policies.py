"""Seed the two SLA policies: the Chinese regulator's rule (default) and the UK FCA DISP preset."""

from decimal import Decimal

from django.db import migrations

POLICIES = [
    {
        # 银行业保险业消费投诉处理管理办法: decision within 15 days of receipt; a complex complaint
        # may be extended to 30 days, a special case by a further 30 (60 in all).
        "code": "cn-nfra",
        "name_zh": "银行业保险业消费投诉处理管理办法",
        "name_en": "China: banking and insurance consumer complaints rules",
        "calendar": "cn",
        "timezone": "Asia/Shanghai",
        "ack_business_days": 1,
        "resolve_days": 15,
        "resolve_in_business_days": False,
        "roll_past_holidays": True,
        "first_extension_to_days": 30,
        "max_days": 60,
        "summary_business_days": None,
        "compensation_approval_above": Decimal("10000.00"),
        "compensation_currency": "CNY",
        "followup_days": [7, 30],
        "is_default": True,
    },
    {
        # FCA DISP 1.6: final response within eight weeks; summary resolution by the close of
        # the third business day after receipt.
        "code": "uk-fca-disp",
        "name_zh": "英国金融行为监管局投诉处理规则（DISP）",
        "name_en": "UK FCA DISP",
        "calendar": "uk",
        "timezone": "Europe/London",
        "ack_business_days": 1,
        "resolve_days": 56,
        "resolve_in_business_days": False,
        "roll_past_holidays": False,
        "first_extension_to_days": 56,
        "max_days": 56,
        "summary_business_days": 3,
        "compensation_approval_above": Decimal("1000.00"),
        "compensation_currency": "GBP",
        "followup_days": [7, 30],
        "is_default": False,
    },
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    for policy in POLICIES:
        SlaPolicy.objects.get_or_create(code=policy["code"], defaults=policy)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
