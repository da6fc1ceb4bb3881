"""A realistic, bilingual demo portfolio for the core domain.

`seed_core(stdout)` builds three teams with their managers and relationship managers, bank-wide
risk/legal/credit colleagues, an administrator, about forty clients (Chinese and international)
with their contacts, and eighty financing projects spread over all eight stages, each with its
stage history, its touchpoints over the last months and its commitments (fulfilled,
renegotiated, cancelled, open and due soon, missed).

The plan is drawn from a seeded random generator before anything is read from the database, so
every run describes the same portfolio; rows are keyed by stable usernames, team and client
names, contact e-mails and project codes, and only missing ones are created. Running it twice
changes nothing.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Department, Role, Team, User

from .models import (
    Client,
    Commitment,
    CommitmentStatus,
    Contact,
    FinancingProject,
    ProjectStatus,
    Stage,
    StageTransition,
    Touchpoint,
)

# Shared by every demo login and printed by `seed_demo`; demo databases only.
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105
SEED = 2026
PROJECT_CODE_PREFIX = "DEMO-"

TEAMS = [
    ("基础设施一部 Infrastructure East", "east"),
    ("能源二部 Energy North", "north"),
    ("交通港口三部 Transport South", "south"),
]

# username, family name, given name, role, department, team key (None: bank-wide)
USERS = [
    ("chen.jianguo", "陈", "建国", Role.MANAGER, Department.BUSINESS, "east"),
    ("li.na", "李", "娜", Role.MANAGER, Department.BUSINESS, "north"),
    ("grace.ho", "Ho", "Grace", Role.MANAGER, Department.BUSINESS, "south"),
    ("wang.wei", "王", "伟", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "east"),
    ("zhang.min", "张", "敏", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "east"),
    ("liu.yang", "刘", "洋", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "east"),
    ("daniel.wong", "Wong", "Daniel", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "east"),
    ("zhao.lei", "赵", "磊", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "north"),
    ("sun.ting", "孙", "婷", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "north"),
    ("zhou.qiang", "周", "强", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "north"),
    ("wu.jing", "吴", "静", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "south"),
    ("huang.hao", "黄", "浩", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "south"),
    ("emily.chan", "Chan", "Emily", Role.RELATIONSHIP_MANAGER, Department.BUSINESS, "south"),
    ("xu.fang", "徐", "芳", Role.DEPARTMENT, Department.RISK, None),
    ("ma.jun", "马", "骏", Role.DEPARTMENT, Department.LEGAL, None),
    ("olivia.lam", "Lam", "Olivia", Role.DEPARTMENT, Department.LEGAL, None),
    ("guo.peng", "郭", "鹏", Role.DEPARTMENT, Department.CREDIT, None),
    ("demo.admin", "系统", "管理员", Role.ADMIN, Department.OPERATIONS, None),
]

# Chinese name, English name (sponsors of the demo clients)
SPONSORS = [
    ("华电", "Huadian"),
    ("华能", "Huaneng"),
    ("大唐", "Datang"),
    ("国家电投", "SPIC"),
    ("三峡", "Three Gorges"),
    ("中广核", "CGN"),
    ("龙源", "Longyuan"),
    ("中交", "CCCC"),
    ("中铁", "China Railway"),
    ("招商局", "China Merchants"),
    ("粤海", "GDH"),
    ("申能", "Shenergy"),
    ("京能", "Beijing Energy"),
    ("浙能", "Zhejiang Energy"),
    ("协鑫", "GCL"),
    ("通威", "Tongwei"),
    ("首创", "Capital Eco"),
    ("北控", "BE Water"),
    ("深燃", "Shenzhen Gas"),
    ("远景", "Envision"),
]

# company suffix zh/en, industry zh/en, project kind zh/en
SECTORS = [
    ("新能源有限公司", "Renewables Co., Ltd.", "风电", "Wind power", "风电", "Wind"),
    ("光伏发电有限公司", "Solar Power Co., Ltd.", "光伏", "Solar power", "光伏电站", "Solar Park"),
    ("水务有限公司", "Water Co., Ltd.", "水务", "Water", "污水处理厂", "Wastewater Plant"),
    ("交通投资有限公司", "Transport Investment Co., Ltd.", "交通", "Transport", "高速公路", "Expressway"),
    ("港口有限公司", "Ports Co., Ltd.", "港口", "Ports", "集装箱码头", "Container Terminal"),
    ("储能科技有限公司", "Energy Storage Co., Ltd.", "储能", "Energy storage", "储能电站", "Battery Storage"),
    (
        "数据科技有限公司",
        "Data Infrastructure Co., Ltd.",
        "数据中心",
        "Data centres",
        "数据中心",
        "Data Centre",
    ),
    ("燃气有限公司", "Gas Co., Ltd.", "燃气", "Gas", "LNG接收站", "LNG Terminal"),
]

# place zh/en, region zh/en
PLACES = [
    ("莆田", "Putian", "华东", "East China"),
    ("乌兰察布", "Ulanqab", "华北", "North China"),
    ("阳江", "Yangjiang", "华南", "South China"),
    ("如东", "Rudong", "华东", "East China"),
    ("酒泉", "Jiuquan", "西北", "Northwest China"),
    ("凉山", "Liangshan", "西南", "Southwest China"),
    ("烟台", "Yantai", "华东", "East China"),
    ("张家口", "Zhangjiakou", "华北", "North China"),
    ("舟山", "Zhoushan", "华东", "East China"),
    ("宜昌", "Yichang", "华中", "Central China"),
]
PHASES = [("一期", "Phase I"), ("二期", "Phase II"), ("三期", "Phase III"), ("扩建", "Expansion")]

SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang")]
GIVEN = [("伟", "wei"), ("芳", "fang"), ("静", "jing"), ("磊", "lei"), ("婷", "ting"), ("军", "jun")]
EN_NAMES = ["James Lee", "Sarah Lim", "Michael Tan", "Rachel Ng", "David Koh", "Anna Schmidt"]
TITLES = [("财务总监", "CFO"), ("融资经理", "Financing manager"), ("项目总经理", "Project director")]

# Days a demo project typically stays in each stage before the current one.
STAGE_DAYS = {
    Stage.INQUIRY: 10,
    Stage.TERM_SHEET: 18,
    Stage.DUE_DILIGENCE: 35,
    Stage.CREDIT_APPROVAL: 25,
    Stage.DOCUMENTATION: 25,
    Stage.DISBURSEMENT: 12,
    Stage.MONITORING: 90,
    Stage.CLOSED: 30,
}

TOUCHPOINTS = [
    ("meeting", "与客户财务总监会面，讨论{topic}。", "Met the client's CFO about {topic}."),
    ("call", "电话告知客户{topic}的最新进展。", "Called the client with the latest on {topic}."),
    ("email", "邮件发送{topic}的进度说明。", "Emailed a progress note on {topic}."),
    (
        "progress_update",
        "向客户发送项目进度周报，包括{topic}。",
        "Sent the weekly progress report, incl. {topic}.",
    ),
    ("site_visit", "赴项目现场调研，了解{topic}。", "Site visit to check {topic}."),
    ("document", "收到客户提交的{topic}相关资料。", "Received the client's documents on {topic}."),
]
TOPICS = {
    Stage.INQUIRY: ("融资需求", "the financing need"),
    Stage.TERM_SHEET: ("条款清单", "the term sheet"),
    Stage.DUE_DILIGENCE: ("尽职调查", "due diligence"),
    Stage.CREDIT_APPROVAL: ("授信审批", "credit approval"),
    Stage.DOCUMENTATION: ("贷款合同", "the facility agreement"),
    Stage.DISBURSEMENT: ("提款安排", "the drawdown"),
    Stage.MONITORING: ("项目建设和还款", "construction and repayments"),
    Stage.CLOSED: ("结清手续", "the final settlement"),
}

# title zh, title en, kind, department
COMMITMENTS = [
    ("确认贷款利率报价", "Confirm the loan rate quote", "pricing", Department.BUSINESS),
    ("发送贷款合同初稿", "Send the first draft of the facility agreement", "document", Department.LEGAL),
    ("出具法律意见书", "Issue the legal opinion", "document", Department.LEGAL),
    ("完成风险评估报告", "Complete the risk assessment report", "document", Department.RISK),
    ("告知授信审批结果", "Tell the client the credit decision", "response", Department.CREDIT),
    ("约定首笔提款日期", "Agree the first drawdown date", "schedule", Department.BUSINESS),
    ("答复担保结构相关问题", "Answer the questions on the security structure", "response", Department.RISK),
    (
        "提供尽调补充资料清单",
        "Send the list of additional due-diligence documents",
        "document",
        Department.BUSINESS,
    ),
]
RENEGOTIATION_REASONS = [
    ("客户要求延后，等待环评批复。", "The client asked for more time pending the environmental permit."),
    ("审批委员会会期调整。", "The credit committee meeting moved."),
]


@dataclass
class ProjectPlan:
    code: str
    client_index: int
    name: str
    amount: Decimal
    currency: str
    stage: str
    status: str
    rm: str
    cadence: int
    chinese: bool
    stays: list[tuple[str, float, float | None]]  # stage, days ago entered, days ago left
    touchpoints: list[tuple[str, float, bool, int, str]] = field(default_factory=list)
    commitments: list[dict] = field(default_factory=list)


def _plan_clients(rng: random.Random) -> list[dict]:
    rms_by_team = {}
    for username, *_, role, _department, team_key in USERS:
        if role == Role.RELATIONSHIP_MANAGER:
            rms_by_team.setdefault(team_key, []).append(username)
    clients = []
    for index in range(40):
        sponsor_zh, sponsor_en = SPONSORS[index % len(SPONSORS)]
        sector = SECTORS[(index * 3 + index // len(SPONSORS)) % len(SECTORS)]
        place = PLACES[rng.randrange(len(PLACES))]
        chinese = index % 4 != 3
        team_key = TEAMS[index % len(TEAMS)][1]
        contacts = []
        for position in range(1 + rng.randrange(3)):
            if chinese or position == 1:
                surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
                name, local, language = surname[0] + given[0], f"{given[1]}.{surname[1]}", "zh-hans"
            else:
                name = rng.choice(EN_NAMES)
                local, language = name.lower().replace(" ", "."), "en"
            title = TITLES[position % len(TITLES)][0 if language == "zh-hans" else 1]
            contacts.append(
                {
                    "name": name,
                    "email": f"{local}.{position}@client{index:02d}.example.com",
                    "title": title,
                    "phone": f"+86 21 5{index:02d}{position}{rng.randrange(1000, 9999)}",
                    "language": language,
                }
            )
        clients.append(
            {
                "name": f"{sponsor_zh}{sector[0]}" if chinese else f"{sponsor_en} {sector[1]}",
                "industry": sector[2] if chinese else sector[3],
                "region": place[2] if chinese else place[3],
                "team": team_key,
                "rm": rng.choice(rms_by_team[team_key]),
                "chinese": chinese,
                "sponsor": (sponsor_zh, sponsor_en),
                "sector": sector,
                "place": place,
                "contacts": contacts,
            }
        )
    return clients


def _plan_projects(rng: random.Random, clients: list[dict]) -> list[ProjectPlan]:
    stages = Stage.values
    plans = []
    for number in range(80):
        client_index = number // 2
        client = clients[client_index]
        stage = stages[(number * 3 + number // 8) % len(stages)]
        stage_index = stages.index(stage)
        status = ProjectStatus.ACTIVE
        if stage == Stage.CLOSED:
            status = ProjectStatus.CLOSED
        elif number % 19 == 7 and stage_index < 4:
            status = ProjectStatus.LOST
        elif number % 11 == 5:
            status = ProjectStatus.ON_HOLD
        phase = PHASES[number % 2 + (number // 40) * 2]
        place = PLACES[(client_index + number) % len(PLACES)] if number % 2 else client["place"]
        sector = client["sector"]
        if client["chinese"]:
            name = f"{client['sponsor'][0]}{place[0]}{sector[4]}{phase[0]}"
        else:
            name = f"{client['sponsor'][1]} {place[1]} {sector[5]} {phase[1]}"
        currency = "CNY" if client["chinese"] else rng.choice(["USD", "USD", "HKD", "EUR"])
        amount = Decimal(rng.randrange(50, 3000) * 1_000_000)
        # Stage history, newest first backwards from today; the current stay sometimes overruns.
        stays = []
        ago = 0.0
        current_days = STAGE_DAYS[stage] * rng.uniform(0.1, 1.6)
        stays.append((stage, ago + current_days, None))
        ago += current_days
        for previous in reversed(stages[:stage_index]):
            days = STAGE_DAYS[previous] * rng.uniform(0.6, 1.3)
            stays.append((previous, ago + days, ago))
            ago += days
        stays.reverse()
        plan = ProjectPlan(
            code=f"{PROJECT_CODE_PREFIX}{number + 1:03d}",
            client_index=client_index,
            name=name,
            amount=amount,
            currency=currency,
            stage=stage,
            status=status,
            rm=client["rm"],
            cadence=rng.choice([7, 14, 14, 14, 21, 30]),
            chinese=client["chinese"],
            stays=stays,
        )
        _plan_touchpoints(rng, plan, contacts=len(client["contacts"]), overdue=number % 6 == 1)
        _plan_commitments(rng, plan, number)
        plans.append(plan)
    return plans


def _stage_at(plan: ProjectPlan, days_ago: float) -> str:
    for stage, entered, left in plan.stays:
        if entered >= days_ago and (left is None or left <= days_ago):
            return stage
    return plan.stays[0][0]


def _plan_touchpoints(rng: random.Random, plan: ProjectPlan, *, contacts: int, overdue: bool) -> None:
    """Touchpoints every so often over the last half year; an overdue project went quiet."""
    started = min(plan.stays[0][1], 180.0)
    quiet_for = plan.cadence * rng.uniform(1.3, 2.5) if overdue else 0.0
    if plan.status != ProjectStatus.ACTIVE:
        quiet_for = max(quiet_for, plan.cadence * 1.0)
    ago = started
    while ago > quiet_for:
        template = rng.randrange(len(TOUCHPOINTS))
        is_update = TOUCHPOINTS[template][0] in ("meeting", "call", "email", "progress_update")
        plan.touchpoints.append((TOUCHPOINTS[template][0], ago, is_update, rng.randrange(contacts), template))
        ago -= plan.cadence * rng.uniform(0.4, 1.0)
    if not quiet_for:
        # A well-kept project: the client heard from the bank within the current cadence.
        latest = min(rng.uniform(0.2, 0.7) * plan.cadence, started)
        plan.touchpoints.append(("progress_update", latest, True, rng.randrange(contacts), 3))


def _plan_commitments(rng: random.Random, plan: ProjectPlan, number: int) -> None:
    active = plan.status == ProjectStatus.ACTIVE
    for position in range(1 + rng.randrange(3)):
        template = rng.randrange(len(COMMITMENTS))
        made_ago = rng.uniform(10, 60)
        due_ago = made_ago - rng.uniform(5, 30)  # negative: due in the future
        if not active:
            outcome = "fulfilled"
        elif position == 0 and number % 5 == 0:
            outcome, due_ago = "missed", rng.uniform(0.5, 6)
        elif position == 0 and number % 5 == 2:
            outcome, due_ago = "due_soon", -rng.uniform(0.2, 1.8)
        elif number % 7 == 3 and position == 1:
            outcome = "renegotiated"
        elif number % 13 == 4 and position == 1:
            outcome = "cancelled"
        elif due_ago > 0:
            outcome = "fulfilled"
        else:
            outcome = "open"
        plan.commitments.append(
            {
                "template": template,
                "made_ago": made_ago,
                "due_ago": due_ago,
                "outcome": outcome,
                "late_by": rng.choice([-2.0, -1.0, -0.5, 0.5, 2.0]),
                "new_due_ago": -rng.uniform(5, 25),
                "reason": rng.randrange(len(RENEGOTIATION_REASONS)),
            }
        )


def _seed_people() -> tuple[dict[str, Team], dict[str, User]]:
    teams = {}
    for name, key in TEAMS:
        teams[key], _ = Team.objects.get_or_create(name=name)
    existing = {user.username: user for user in User.objects.filter(username__in=[row[0] for row in USERS])}
    password = make_password(DEMO_PASSWORD)  # hashed once: every demo login shares it
    for username, family, given, role, department, team_key in USERS:
        if username in existing:
            continue
        chinese = family[0] > "\u2e80"
        existing[username] = User.objects.create(
            username=username,
            password=password,
            last_name=family,
            first_name=given,
            email=f"{username}@bank.example",
            role=role,
            department=department,
            team=teams[team_key] if team_key else None,
            language="zh-hans" if chinese else "en",
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
    for username, *_, role, _department, team_key in USERS:
        team = teams.get(team_key)
        if role == Role.MANAGER and team.manager_id is None:
            team.manager = existing[username]
            team.save(update_fields=["manager"])
    return teams, existing


def _seed_clients(clients: list[dict], teams, users) -> tuple[list[Client], dict[int, list[Contact]]]:
    rows = []
    for plan in clients:
        client, _ = Client.objects.get_or_create(
            name=plan["name"],
            team=teams[plan["team"]],
            defaults={
                "industry": plan["industry"],
                "region": plan["region"],
                "relationship_manager": users[plan["rm"]],
            },
        )
        rows.append(client)
    known = {(c.client_id, c.email) for c in Contact.objects.filter(client__in=rows)}
    Contact.objects.bulk_create(
        [
            Contact(client=client, **contact)
            for client, plan in zip(rows, clients, strict=True)
            for contact in plan["contacts"]
            if (client.pk, contact["email"]) not in known
        ]
    )
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(client__in=rows).order_by("client_id", "id"):
        contacts.setdefault(contact.client_id, []).append(contact)
    return rows, contacts


def _ago(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)


def _seed_projects(plans: list[ProjectPlan], clients: list[Client], contacts, users, now: datetime) -> int:
    done = set(
        FinancingProject.objects.filter(code__startswith=PROJECT_CODE_PREFIX).values_list("code", flat=True)
    )
    todo = [plan for plan in plans if plan.code not in done]
    if not todo:
        return 0
    projects = []
    for plan in todo:
        client = clients[plan.client_index]
        updates = [ago for _, ago, is_update, _, _ in plan.touchpoints if is_update]
        last_update = _ago(now, min(updates)) if updates else None
        created = _ago(now, plan.stays[0][1])
        projects.append(
            FinancingProject(
                client=client,
                team_id=client.team_id,
                name=plan.name,
                code=plan.code,
                amount=plan.amount,
                currency=plan.currency,
                stage=plan.stage,
                status=plan.status,
                relationship_manager=users[plan.rm],
                update_cadence_days=plan.cadence,
                last_client_update_at=last_update,
                next_update_due_at=(last_update or created) + timedelta(days=plan.cadence),
                stage_entered_at=_ago(now, plan.stays[-1][1]),
            )
        )
    projects = bulk_create_with_history(projects, FinancingProject, default_user=users["demo.admin"])
    for project, plan in zip(projects, todo, strict=True):
        project.created_at = _ago(now, plan.stays[0][1])
    FinancingProject.objects.bulk_update(projects, ["created_at"])

    transitions, touchpoints = [], []
    department_staff = {}
    for username, *_, role, department, _team in USERS:
        if role == Role.DEPARTMENT:
            department_staff.setdefault(department, users[username])
    for project, plan in zip(projects, todo, strict=True):
        rm = users[plan.rm]
        previous = ""
        for stage, entered, left in plan.stays:
            transitions.append(
                StageTransition(
                    project=project,
                    from_stage=previous,
                    stage=stage,
                    entered_at=_ago(now, entered),
                    left_at=_ago(now, left) if left is not None else None,
                    moved_by=rm,
                )
            )
            previous = stage
        people = contacts.get(project.client_id, [])
        for channel, ago, is_update, contact_index, template in plan.touchpoints:
            topic = TOPICS[_stage_at(plan, ago)]
            summary_zh, summary_en = TOUCHPOINTS[template][1], TOUCHPOINTS[template][2]
            touchpoints.append(
                Touchpoint(
                    project=project,
                    contact=people[contact_index] if contact_index < len(people) else None,
                    channel=channel,
                    occurred_at=_ago(now, ago),
                    summary=summary_zh.format(topic=topic[0])
                    if plan.chinese
                    else summary_en.format(topic=topic[1]),
                    is_client_update=is_update,
                    shareable=is_update and channel == "progress_update",
                    logged_by=rm,
                )
            )
    StageTransition.objects.bulk_create(transitions)
    Touchpoint.objects.bulk_create(touchpoints)
    _seed_commitments(projects, todo, users, department_staff, now)
    return len(projects)


def _seed_commitments(projects, plans, users, department_staff, now: datetime) -> None:
    first, successors = [], []
    for project, plan in zip(projects, plans, strict=True):
        for spec in plan.commitments:
            title_zh, title_en, kind, department = COMMITMENTS[spec["template"]]
            owner = department_staff.get(department, users[plan.rm])
            due = _ago(now, spec["due_ago"])
            commitment = Commitment(
                project=project,
                title=title_zh if plan.chinese else title_en,
                kind=kind,
                owner=owner,
                department=owner.department,
                due_at=due,
                created_by=users[plan.rm],
                created_at=_ago(now, spec["made_ago"]),
            )
            outcome = spec["outcome"]
            if outcome == "fulfilled":
                done_at = min(due + timedelta(days=spec["late_by"]), now - timedelta(hours=1))
                commitment.status = CommitmentStatus.FULFILLED
                commitment.fulfilled_at = commitment.closed_at = done_at
            elif outcome in ("renegotiated", "cancelled"):
                reason_zh, reason_en = RENEGOTIATION_REASONS[spec["reason"]]
                commitment.status = outcome
                commitment.closed_at = _ago(now, max(spec["made_ago"] - 3, 1))
                commitment.close_reason = reason_zh if plan.chinese else reason_en
            first.append(commitment)
            if outcome == "renegotiated":
                successors.append((commitment, _ago(now, spec["new_due_ago"])))
    bulk_create_with_history(first, Commitment, default_user=users["demo.admin"])
    bulk_create_with_history(
        [
            old.successor(due_at=new_due, created_by_id=old.created_by_id, created_at=old.closed_at)
            for old, new_due in successors
        ],
        Commitment,
        default_user=users["demo.admin"],
    )


@transaction.atomic
def seed_core(stdout) -> dict[str, int]:
    """Create whatever part of the demo portfolio is missing; print and return the totals."""
    rng = random.Random(SEED)
    client_plans = _plan_clients(rng)
    project_plans = _plan_projects(rng, client_plans)
    now = timezone.now()

    teams, users = _seed_people()
    clients, contacts = _seed_clients(client_plans, teams, users)
    created = _seed_projects(project_plans, clients, contacts, users, now)

    codes = [plan.code for plan in project_plans]
    totals = {
        "teams": Team.objects.filter(name__in=[name for name, _ in TEAMS]).count(),
        "users": User.objects.filter(username__in=[row[0] for row in USERS]).count(),
        "clients": len(clients),
        "contacts": Contact.objects.filter(client__in=clients).count(),
        "projects": FinancingProject.objects.filter(code__in=codes).count(),
        "projects created now": created,
        "touchpoints": Touchpoint.objects.filter(project__code__in=codes).count(),
        "commitments": Commitment.objects.filter(project__code__in=codes).count(),
    }
    for name, count in totals.items():
        stdout.write(f"  {name:<22} {count:>6}")
    return totals


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, team) of every demo login, in the order of `USERS`."""
    team_names = dict((key, name) for name, key in TEAMS)
    return [
        (username, str(Role(role).label), team_names.get(team_key, "-"))
        for username, _family, _given, role, _department, team_key in USERS
    ]
