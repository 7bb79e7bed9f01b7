"""The card form: one field per card key; validation delegates to clean_card (shared rules)."""

from typing import Any

from django import forms

from guanai.forms import PlainForm

from .models import Assessment, Child, Gender, Hukou, ParentStatus, Tag
from .validation import FIELD_LABELS, CardInvalid, clean_card

SECTIONS: list[tuple[str, list[str]]] = [
    (
        "基本信息",
        [
            "name",
            "gender",
            "birth_date",
            "ethnicity",
            "id_number",
            "student_no",
            "school_no",
            "hukou",
            "is_migrant",
            "boarding",
        ],
    ),
    ("家庭住址", ["village", "group", "address", "latitude", "longitude"]),
    (
        "父亲",
        [
            "father.name",
            "father.status",
            "father.status_reason",
            "father.away_since",
            "father.work_province",
            "father.work_city",
            "father.phone",
            "father.effective_from",
        ],
    ),
    (
        "母亲",
        [
            "mother.name",
            "mother.status",
            "mother.status_reason",
            "mother.away_since",
            "mother.work_province",
            "mother.work_city",
            "mother.phone",
            "mother.effective_from",
        ],
    ),
    (
        "监护人（委托监护人）",
        [
            "guardian.name",
            "guardian.relation",
            "guardian.phone",
            "guardian.age",
            "guardian.health",
            "guardian.capacity",
            "guardian.is_entrusted",
            "guardian.entrustment_notice_on",
            "guardian.confirmation_signed_on",
        ],
    ),
    ("监护与家庭", ["guardianship_assessment", "income_sources", "assistance", "tags"]),
    ("健康与学习", ["health", "disability", "study", "psych_summary", "safety_notes"]),
    ("知情同意与备注", ["photo_consent", "psych_test_consent", "publicity_consent", "notes"]),
]
# The card form edits one section at a time on a phone (60 fields are 5,000 px): `?section=`
# names one of these, `all` the whole form.
SECTION_SLUGS = [
    "basic",
    "address",
    "father",
    "mother",
    "guardian",
    "family",
    "health",
    "consent",
]
SECTION_OF_SLUG = dict(zip(SECTION_SLUGS, SECTIONS, strict=True))
ALL_SECTIONS = "all"


def section_keys(slug: str) -> set[str]:
    """The card keys of one section (`all`: every key); an unknown slug is the first section."""
    if slug == ALL_SECTIONS:
        return {key for _title, keys in SECTIONS for key in keys}
    _title, keys = SECTION_OF_SLUG.get(slug, SECTIONS[0])
    return set(keys)


SENSITIVE_KEYS = {
    "id_number",
    "student_no",
    "health",
    "disability",
    "psych_summary",
    "psych_test_consent",
}
DATE_KEYS = {
    "birth_date",
    "father.away_since",
    "mother.away_since",
    "father.effective_from",
    "mother.effective_from",
    "guardian.entrustment_notice_on",
    "guardian.confirmation_signed_on",
}
BOOL_KEYS = {
    "is_migrant",
    "photo_consent",
    "psych_test_consent",
    "publicity_consent",
    "guardian.is_entrusted",
}
BLANK = [("", "—")]
CHOICES = {
    "gender": BLANK + list(Gender.choices),
    "hukou": BLANK + list(Hukou.choices),
    "father.status": BLANK + list(ParentStatus.choices),
    "mother.status": BLANK + list(ParentStatus.choices),
    "guardianship_assessment": BLANK + list(Assessment.choices),
    "guardian.capacity": BLANK + list(Assessment.choices),
    "boarding": [("", "—"), ("1", "寄宿"), ("0", "走读")],
}
TEL_KEYS = {"father.phone", "mother.phone", "guardian.phone"}


def _field(key: str) -> forms.Field:
    label = FIELD_LABELS.get(key, key)
    if key in CHOICES:
        return forms.ChoiceField(label=label, choices=CHOICES[key], required=False)
    if key == "tags":
        return forms.MultipleChoiceField(
            label=label, choices=Tag.choices, required=False, widget=forms.CheckboxSelectMultiple
        )
    if key in BOOL_KEYS:
        return forms.BooleanField(label=label, required=False)
    if key in DATE_KEYS:
        return forms.CharField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    if key == "notes":
        return forms.CharField(
            label=label, required=False, widget=forms.Textarea(attrs={"rows": 3})
        )
    attrs: dict[str, Any] = {}
    if key in TEL_KEYS:
        attrs = {"type": "tel", "inputmode": "tel", "autocomplete": "off"}
    if key == "id_number":
        attrs = {"autocomplete": "off", "maxlength": 18}
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))


def initial_for(child: Child, *, with_id: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for _title, keys in SECTIONS:
        for key in keys:
            if "." in key:
                who, field = key.split(".", 1)
                obj = getattr(child, "guardian", None) if who == "guardian" else child.parent(who)
                value = getattr(obj, field) if obj is not None else None
            elif key in ("id_number", "student_no"):
                value = getattr(child, key) if with_id else ""
            else:
                value = getattr(child, key)
            if key == "boarding":
                value = "" if value is None else ("1" if value else "0")
            data[key] = "" if value is None else value
    return data


class CardForm(PlainForm):
    """All card fields; `changes()` gives only what the user changed, for the service."""

    reason = forms.CharField(label="修改原因（可选）", required=False, max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, hide: set[str] = frozenset(), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.hidden_keys = set(hide)
        for _title, keys in SECTIONS:
            for key in keys:
                if key not in self.hidden_keys:
                    self.fields[key] = _field(key)

    def sections(self) -> list[tuple[str, list]]:
        return [
            (t, [self[k] for k in keys if k in self.fields])
            for t, keys in SECTIONS
            if any(k in self.fields for k in keys)
        ]

    def changes(self) -> dict[str, Any]:
        changed = [k for k in self.changed_data if k not in ("reason", "version")]
        out = {}
        for key in changed:
            value = self.cleaned_data.get(key)
            if key == "boarding":
                value = {"1": True, "0": False}.get(value, None)
            out[key] = value
        return out

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            clean_card(
                {k: v for k, v in self.changes().items() if k != "id_number"}
                | (
                    {"id_number": self.cleaned_data.get("id_number")}
                    if "id_number" in self.changed_data
                    else {}
                ),
                current=self.initial.get("_current"),
            )
        except CardInvalid as exc:
            for key, message in exc.errors.items():
                self.add_error(key if key in self.fields else None, message)
        return cleaned
