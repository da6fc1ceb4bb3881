"""The three surveys the product ships with; editable in the admin afterwards.

The "yes" of the relationship survey's last question carries the contact-request flag (see
`feedback.models.CONTACT_REQUEST_FLAG`); databases migrated before it was written here get it
from 0005.
"""

from django.db import migrations

SURVEYS = [
    {
        "kind": "relationship",
        "name_zh": "客户关系调查",
        "name_en": "Relationship survey",
        "intro_zh": "感谢您与我们的合作。请花两分钟告诉我们，我们做得怎么样。",
        "intro_en": "Thank you for working with us. Please take two minutes to tell us how we are doing.",
        "questions": [
            ("nps", "您有多大可能向同行推荐我行的项目融资服务？", "How likely are you to recommend our project-finance service to a peer?", "", True),
            ("text", "您给出这个分数的主要原因是什么？", "What is the main reason for your score?", "", False),
            (
                "choice",
                "您希望客户经理就您的反馈与您联系吗？",
                "Would you like your relationship manager to contact you about your feedback?",
                "yes|是的，请联系我|Yes, please contact me|contact_request\nno|不用了|No, thank you",
                False,
            ),
        ],
    },
    {
        "kind": "milestone",
        "name_zh": "项目节点调查",
        "name_en": "Milestone survey",
        "intro_zh": "您的项目刚刚进入新的阶段。请告诉我们这一阶段的体验。",
        "intro_en": "Your project has just reached a new stage. Please tell us how this stage went.",
        "questions": [
            ("csat", "您对这一阶段我行的服务满意吗？", "How satisfied are you with our service in this stage?", "", True),
            ("ces", "我行让这一阶段的办理变得很容易。", "The bank made this stage easy for us.", "", True),
            ("text", "有什么我们可以做得更好？", "What could we have done better?", "", False),
        ],
    },
    {
        "kind": "recovery",
        "name_zh": "问题处理回访",
        "name_en": "Recovery survey",
        "intro_zh": "您反映的问题已经处理完毕。请告诉我们处理结果是否让您满意。",
        "intro_en": "The issue you raised has been resolved. Please tell us whether the outcome satisfied you.",
        "questions": [
            ("csat", "您对问题的处理结果满意吗？", "How satisfied are you with how your issue was resolved?", "", True),
            ("ces", "我行让问题的解决过程变得很容易。", "The bank made it easy to get the issue resolved.", "", True),
            ("nps", "经过这次处理，您有多大可能向同行推荐我行？", "After this experience, how likely are you to recommend us to a peer?", "", False),
            ("text", "还有什么想告诉我们的吗？", "Is there anything else you would like to tell us?", "", False),
        ],
    },
]


def create_surveys(apps, schema_editor):
    Survey = apps.get_model("feedback", "Survey")
    Question = apps.get_model("feedback", "Question")
    for spec in SURVEYS:
        if Survey.objects.filter(kind=spec["kind"]).exists():
            continue
        survey = Survey.objects.create(
            kind=spec["kind"],
            name_zh=spec["name_zh"],
            name_en=spec["name_en"],
            intro_zh=spec["intro_zh"],
            intro_en=spec["intro_en"],
        )
        for position, (qtype, text_zh, text_en, choices, required) in enumerate(spec["questions"], start=1):
            Question.objects.create(
                survey=survey,
                position=position,
                type=qtype,
                text_zh=text_zh,
                text_en=text_en,
                choices=choices,
                required=required,
            )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(create_surveys, migrations.RunPython.noop)]
