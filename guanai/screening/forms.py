"""Forms of the screening, verification, import and transition pages. Field rules live in the
services (and for card fields in clean_card): forms only bind input and show messages."""

from typing import Any

from django import forms

from guanai.children.forms import SECTIONS, CardForm, initial_for
from guanai.children.models import Child, Tag
from guanai.children.validation import CardInvalid
from guanai.forms import PlainForm
from guanai.lib.dates import DateError, parse_date
from guanai.lib.grades import GRADE_NAMES
from guanai.org.models import SchoolClass

from .models import AskedOf, Destination, FieldGroup, PledgeItem, Vacation
from .services import this_term
from .verification import clean_vacation_plan

PARENT_KEYS = [
    f"{who}.{field}"
    for who in ("father", "mother")
    for field in ("status", "away_since", "work_province", "work_city", "phone", "effective_from")
]
SCREENING_KEYS = [
    *PARENT_KEYS,
    "guardian.name",
    "guardian.relation",
    "guardian.phone",
    "is_migrant",
]
VERIFY_KEYS = [*SCREENING_KEYS, "village", "group", "address"]
ALL_KEYS = {key for _title, keys in SECTIONS for key in keys}
DATE = forms.DateInput(attrs={"type": "date"})


def _term_field() -> forms.CharField:
    return forms.CharField(
        label="学期",
        max_length=12,
        required=False,
        help_text="如 2026-2027-1（学年-学年-1 秋季 / 2 春季），空白为本学期",
    )


class SituationForm(CardForm):
    """A few card fields (parents, guardian …) checked in screening or verification; the rest of
    the card is edited on the card page. Saves through update_child like the card form."""

    def __init__(self, *args: Any, child: Child, keys: list[str], **kwargs: Any):
        initial = initial_for(child, with_id=False) | {"version": child.version}
        for key in ("father.effective_from", "mother.effective_from"):
            initial[key] = ""  # filled only when the teacher knows since when
        initial["_current"] = {
            "birth_date": child.birth_date,
            "gender": child.gender,
            "id_number": "",
        }
        super().__init__(*args, initial=initial, hide=ALL_KEYS - set(keys), **kwargs)
        self.fields["reason"].label = "备注（可选）"
        for key in ("father.effective_from", "mother.effective_from"):
            if key in self.fields:
                self.fields[key].help_text = "状况有变化时填写从哪天起；空白为今天"


class CampaignForm(PlainForm):
    school = forms.ModelChoiceField(label="学校", queryset=None, empty_label="请选择学校")
    term = _term_field()

    def __init__(self, *args: Any, schools, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["term"].initial = this_term()


class CloseForm(PlainForm):
    reason = forms.CharField(
        label="提前结束的原因",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="还有学生未摸排时必须填写，例如：3 名学生长期病休，开学后补摸排",
    )


class RoundForm(PlainForm):
    school = forms.ModelChoiceField(label="学校", queryset=None, empty_label="请选择学校")
    term = _term_field()
    vacation = forms.ChoiceField(label="假期", choices=Vacation.choices)
    deadline = forms.CharField(label="截止日期", widget=DATE)
    plans_of = forms.ChoiceField(
        label="需登记假期去向",
        required=False,
        choices=AskedOf.choices,
        initial=AskedOf.LEFT_BEHIND,
        help_text="年级签字前，这些学生都要登记假期去向",
    )
    pledges_of = forms.ChoiceField(
        label="需交回安全责任书",
        required=False,
        choices=AskedOf.choices,
        initial=AskedOf.LEFT_BEHIND,
        help_text="年级签字前，这些学生的安全责任书都要交回",
    )

    def __init__(self, *args: Any, schools, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["term"].initial = this_term()
        self.fields["vacation"].initial = (
            Vacation.WINTER if this_term().endswith("-1") else Vacation.SUMMER
        )


# The groups the verification form shows as fields, in the order of the page …
GROUP_FIELDS: dict[str, list[str]] = {
    FieldGroup.PARENTS: PARENT_KEYS,
    FieldGroup.GUARDIAN: ["guardian.name", "guardian.relation", "guardian.phone"],
    FieldGroup.ADDRESS: ["village", "group", "address"],
    FieldGroup.BASIC: ["is_migrant"],
}
# … and those it shows read-only (changed in the card's own section): field → label.
GROUP_ROWS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    FieldGroup.BASIC: (
        "basic",
        [
            ("name", "姓名"),
            ("gender", "性别"),
            ("birth_date", "出生日期"),
            ("ethnicity", "民族"),
            ("hukou", "户口性质"),
            ("boarding", "寄宿"),
            ("school_no", "学号"),
        ],
    ),
    FieldGroup.CARE: (
        "family",
        [
            ("guardianship_assessment", "监护情况评估"),
            ("income_sources", "家庭收入来源"),
            ("assistance", "享受救助"),
            ("tags", "特殊类别"),
        ],
    ),
    FieldGroup.HEALTH: (
        "health",
        [
            ("health", "健康状况"),
            ("disability", "残疾情况"),
            ("study", "学习情况"),
            ("safety_notes", "安全情况"),
        ],
    ),
}
# Shown read-only to every verifier; 健康、学习与安全 only to those who read health.
READ_ONLY_GROUPS = [FieldGroup.BASIC, FieldGroup.CARE]
GROUP_ORDER = [
    FieldGroup.PARENTS,
    FieldGroup.GUARDIAN,
    FieldGroup.ADDRESS,
    FieldGroup.BASIC,
    FieldGroup.CARE,
    FieldGroup.HEALTH,
]


def _shown(child: Child, field: str) -> str:
    """A card value as the verification page shows it read-only."""
    if field == "tags":
        return "、".join(Tag(t).label for t in child.tags if t in Tag.values)
    if field == "boarding":
        return {True: "寄宿", False: "走读", None: ""}[child.boarding]
    if field == "birth_date":
        return f"{child.birth_date:%Y-%m-%d}" if child.birth_date else ""
    if field in ("gender", "hukou", "guardianship_assessment"):
        return getattr(child, f"get_{field}_display")()
    return getattr(child, field)


class VerifyForm(SituationForm):
    """The card's groups of fields, each with its own "checked" box: a group counts as verified
    only when the teacher ticks it, and only a group the page shows can be ticked (no box is
    ticked beforehand). Groups edited elsewhere are shown read-only, folded: the box is inside,
    seen only by opening it."""

    groups = forms.MultipleChoiceField(
        label="已核对的信息组",
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "请勾选已与监护人核对过的信息组（至少一项）",
            "invalid_choice": "只能勾选本页显示的信息组",
        },
    )

    def __init__(self, *args: Any, read_only: list[str] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.child = kwargs["child"]
        self.read_only = [g for g in GROUP_ORDER if g in read_only and g in GROUP_ROWS]
        self.shown_groups = [
            g
            for g in GROUP_ORDER
            if g in self.read_only or any(k in self.fields for k in GROUP_FIELDS.get(g, []))
        ]
        self.fields["groups"].choices = [(g.value, g.label) for g in self.shown_groups]

    def blocks(self) -> list[dict[str, Any]]:
        """Per group shown: its fields, its read-only rows, where to change them, ticked?"""
        ticked = set(self["groups"].value() or [])
        out = []
        for g in self.shown_groups:
            section, rows = GROUP_ROWS.get(g, ("", []))
            read_only = g in self.read_only
            out.append(
                {
                    "group": g.value,
                    "label": g.label,
                    "fields": [self[k] for k in GROUP_FIELDS.get(g, []) if k in self.fields],
                    "rows": [(label, _shown(self.child, f)) for f, label in rows]
                    if read_only
                    else [],
                    "section": section if read_only else "",
                    "ticked": g.value in ticked,
                }
            )
        return out

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in super().changes().items() if k != "groups"}


class VacationPlanForm(PlainForm):
    destination = forms.ChoiceField(
        label="假期去向", choices=[("", "—"), *Destination.choices], required=False
    )
    place = forms.CharField(label="去向地点", max_length=100, required=False)
    with_whom = forms.CharField(label="看护人", max_length=50, required=False)
    contact_phone = forms.CharField(
        label="看护人电话",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    activities = forms.CharField(
        label="活动安排",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    pledge_returned = forms.BooleanField(label="安全责任书已交回", required=False)
    pledge_returned_on = forms.CharField(label="交回日期", required=False, widget=DATE)
    pledge_items = forms.MultipleChoiceField(
        label="责任书条目",
        choices=PledgeItem.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            self.values = clean_vacation_plan(cleaned)
        except CardInvalid as exc:
            for key, message in exc.errors.items():
                self.add_error(key if key in self.fields else None, message)
        return cleaned


class ImportForm(PlainForm):
    school = forms.ModelChoiceField(label="学校", queryset=None, empty_label="请选择学校")
    term = _term_field()
    file = forms.FileField(
        label="花名册文件",
        help_text="Excel（.xlsx / .xls）或 .csv；第一张工作表，表头行含“姓名”",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )

    def __init__(self, *args: Any, schools, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        if len(schools) == 1:
            self.fields["school"].initial = schools[0].pk
        self.fields["term"].initial = this_term()


class DateField(forms.CharField):
    """A date as teachers type it (2026-09-01, 2026年9月1日 …), read by lib.dates."""

    widget = DATE

    def to_python(self, value: Any):
        try:
            return parse_date(super().to_python(value))
        except DateError as exc:
            raise forms.ValidationError(str(exc)) from None


class TransferForm(PlainForm):
    destination = forms.ChoiceField(
        label="转往",
        choices=[("town", "本镇其他学校"), ("out", "转出本镇")],
        widget=forms.RadioSelect,
        initial="town",
    )
    to_class = forms.ModelChoiceField(
        label="转入班级",
        queryset=SchoolClass.objects.none(),
        required=False,
        empty_label="请选择学校和班级",
    )
    on = DateField(label="转学日期", required=False)
    reason = forms.CharField(
        label="转学原因",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="例如：随父母返乡就近入学",
    )

    def __init__(self, *args: Any, classes, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["to_class"].queryset = classes
        self.fields["to_class"].label_from_instance = lambda c: c.label


class RolloverForm(PlainForm):
    top_grade = forms.TypedChoiceField(
        label="毕业年级",
        coerce=int,
        choices=[(g, name) for g, name in GRADE_NAMES.items() if g >= 1],
    )
    on = DateField(label="升级日期", required=False, help_text="空白为今天")
    confirm = forms.BooleanField(
        label="我已核对上面的预览：升级后各班学生升入高一年级，毕业年级学生标为已毕业",
        required=True,
        error_messages={"required": "请勾选确认后再执行升级"},
    )


class CountsForm(PlainForm):
    on = DateField(label="日期", required=False)
