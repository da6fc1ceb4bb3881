from django.db import migrations

# Sensible defaults for a project-finance deal; operations staff edit them in the admin.
DEFAULTS = [
    ("inquiry", 14, "了解客户的融资需求、项目背景和初步可行性。", "Understand the client's financing need, the project and its first feasibility."),
    ("term_sheet", 21, "与客户商定主要条款：金额、期限、利率和担保结构。", "Agree the main terms with the client: amount, tenor, rate and security structure."),
    ("due_diligence", 45, "对项目、借款人和担保进行技术、财务和法律尽职调查。", "Technical, financial and legal due diligence on the project, the borrower and the security."),
    ("credit_approval", 30, "风险和授信部门审查并批准授信方案。", "Risk and credit review and approve the facility."),
    ("documentation", 30, "起草、谈判并签署贷款合同和担保文件。", "Draft, negotiate and sign the loan agreement and security documents."),
    ("disbursement", 14, "满足提款先决条件后发放贷款。", "Funds are released once the conditions precedent are met."),
    ("monitoring", 365, "贷后管理：跟踪项目建设、还款和约定条款。", "Post-disbursement monitoring of construction, repayments and covenants."),
    ("closed", 3650, "项目已结清或终止。", "The facility is repaid or the project has ended."),
]


def create_defaults(apps, schema_editor):
    StageDefinition = apps.get_model("finance_projects", "StageDefinition")
    for stage, days, purpose_zh, purpose_en in DEFAULTS:
        StageDefinition.objects.get_or_create(
            stage=stage,
            defaults={"expected_days": days, "purpose_zh": purpose_zh, "purpose_en": purpose_en},
        )


class Migration(migrations.Migration):
    dependencies = [("finance_projects", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
