"""What the pairing, responsibility and proxy-parent routers share: 422 bodies that name each
field in Chinese, as the API's other bad bodies do."""

from ninja import Schema, Status

from guanai.accounts.models import User

LABELS = {
    "teacher": "跟踪教师",
    "kind": "类型",
    "user": "人员",
    "school": "学校",
    "grade": "年级",
    "class_no": "班级",
    "school_class": "班级",
    "term": "学期",
    "valid_from": "起始日期",
    "valid_to": "截止日期",
    "assignment": "指定",
    "responsible_teacher": "责任教师",
    "name": "姓名",
    "phone": "电话",
    "village": "居住村",
    "address": "住址",
    "notes": "备注",
    "username": "登录名",
    "password": "初始密码",
    "declared": "声明",
    "declared_on": "声明日期",
    "child": "儿童",
    "proxy": "代理家长",
    "reason": "原因",
}


class ErrorOut(Schema):
    loc: list[str]
    field: str
    msg: str


class ErrorsOut(Schema):
    detail: list[ErrorOut]


def unprocessable(errors: dict[str, str]) -> Status:
    """422 with a detail list naming each field in Chinese, as the API's other bad bodies."""
    return Status(
        422,
        {
            "detail": [
                {"loc": ["body", k], "field": k, "msg": f"{LABELS.get(k, k)}：{v}"}
                for k, v in errors.items()
            ]
        },
    )


def user_label(user: User | None) -> str | None:
    return str(user) if user is not None else None
