"""Message gateways: pluggable back-ends that deliver one text to one guardian.

Built in: `console` (prints), `file` (appends JSON lines to a file; the demo uses it), `http`
(a generic SMS / 校信通 provider configured by URL, body template and credentials) and `wechat`
(renders the text for the teacher to paste into the class WeChat group; nothing is sent).

Configuration, from Django settings or the environment (settings win):
  GUANAI_MESSAGE_GATEWAY   default gateway (`file`)
  GUANAI_MESSAGE_GATEWAYS  gateways offered on the page (`file,wechat,console`; `http` when
                           GUANAI_SMS_URL is set)
  GUANAI_MESSAGE_FILE      the file back-end's file (default $GUANAI_DATA_DIR/outbox.jsonl)
  GUANAI_SMS_URL           the provider's endpoint
  GUANAI_SMS_TEMPLATE      the request body with {phone} {text} {ref} (JSON-escaped), default
                           {"to": "{phone}", "text": "{text}", "ref": "{ref}"}
  GUANAI_SMS_TOKEN(_FILE)  sent as `Authorization: Bearer …`
  GUANAI_SMS_USER, GUANAI_SMS_PASSWORD(_FILE)  HTTP basic credentials instead
  GUANAI_SMS_TIMEOUT       seconds (5)
  GUANAI_SMS_OK_FIELD, GUANAI_SMS_OK_VALUE     optional: a JSON field of the answer that must
                           hold this value for success (e.g. `code` = `0`)
"""

import base64
import json
import logging
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from guanai.lib.phone import MOBILE

logger = logging.getLogger(__name__)
DEFAULT_TEMPLATE = '{"to": "{phone}", "text": "{text}", "ref": "{ref}"}'


def conf(name: str, default: Any = None) -> Any:
    """A setting, else the environment variable (or its *_FILE), else the default."""
    value = getattr(settings, name, None)
    if value not in (None, ""):
        return value
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return default


class GatewayError(Exception):
    """A failed delivery. `transient` failures (timeouts, 5xx, 429) are retried with back-off;
    others (a refused number, bad credentials) fail at once."""

    def __init__(self, reason: str, *, transient: bool):
        super().__init__(reason)
        self.reason = reason[:200]
        self.transient = transient


@dataclass
class SendResult:
    ref: str = ""


class Gateway:
    code = ""
    label = ""
    needs_phone = True  # SMS-like: the recipient needs a mobile number
    records_only = False  # nothing leaves the server (WeChat group)
    for_testing = False  # reaches no family (console, file): offered to administrators only

    def send(self, *, phone: str, text: str, ref: str) -> SendResult:
        raise NotImplementedError

    def check_phone(self, phone: str) -> str:
        """'' when the number can receive the message, else the Chinese reason."""
        if not self.needs_phone:
            return ""
        if not phone:
            return "档卡上没有监护人电话"
        if not MOBILE.match(phone):
            return f"号码无效：{phone} 不是手机号，无法接收短信"
        return ""


class ConsoleGateway(Gateway):
    code, label = "console", "控制台（测试用）"
    for_testing = True

    def send(self, *, phone: str, text: str, ref: str) -> SendResult:
        print(f"[短信] {phone} ← {text} ({ref})", flush=True)
        return SendResult(ref=ref)


class FileGateway(Gateway):
    code, label = "file", "文件（演示：写入发件箱文件）"
    for_testing = True

    def path(self) -> Path:
        return Path(conf("GUANAI_MESSAGE_FILE") or Path(settings.DATA_DIR) / "outbox.jsonl")

    def send(self, *, phone: str, text: str, ref: str) -> SendResult:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps({"to": phone, "text": text, "ref": ref}, ensure_ascii=False)
        # Guardians' phones: readable by the service's user only, wherever the file is.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # an outbox an older version left 0644
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return SendResult(ref=ref)


class HttpGateway(Gateway):
    code, label = "http", "短信平台（HTTP）"

    def __init__(self) -> None:
        self.url = conf("GUANAI_SMS_URL", "")
        self.template = conf("GUANAI_SMS_TEMPLATE", DEFAULT_TEMPLATE)
        self.token = conf("GUANAI_SMS_TOKEN", "")
        self.user = conf("GUANAI_SMS_USER", "")
        self.password = conf("GUANAI_SMS_PASSWORD", "")
        self.timeout = float(conf("GUANAI_SMS_TIMEOUT", 5))
        self.ok_field = conf("GUANAI_SMS_OK_FIELD", "")
        self.ok_value = str(conf("GUANAI_SMS_OK_VALUE", ""))

    def body(self, *, phone: str, text: str, ref: str) -> bytes:
        def esc(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1]

        filled = (
            self.template.replace("{phone}", esc(phone))
            .replace("{text}", esc(text))
            .replace("{ref}", esc(ref))
        )
        return filled.encode("utf-8")

    def send(self, *, phone: str, text: str, ref: str) -> SendResult:
        if not self.url:
            raise GatewayError("短信平台未配置（GUANAI_SMS_URL）", transient=False)
        request = urllib.request.Request(
            self.url, data=self.body(phone=phone, text=text, ref=ref), method="POST"
        )
        request.add_header("Content-Type", "application/json; charset=utf-8")
        request.add_header("Idempotency-Key", ref)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        elif self.user:
            basic = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {basic}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").strip()
            transient = exc.code >= 500 or exc.code == 429
            raise GatewayError(
                f"短信平台返回 {exc.code}{'：' + detail if detail else ''}", transient=transient
            ) from None
        except TimeoutError:
            raise GatewayError("短信平台超时未应答", transient=True) from None
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError | socket.timeout):
                raise GatewayError("短信平台超时未应答", transient=True) from None
            raise GatewayError(f"无法连接短信平台：{reason}", transient=True) from None
        answer: dict[str, Any] = {}
        try:
            parsed = json.loads(raw.decode("utf-8") or "{}")
            answer = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            pass
        if self.ok_field and str(answer.get(self.ok_field)) != self.ok_value:
            message = answer.get("message") or answer.get("msg") or json.dumps(answer)[:100]
            raise GatewayError(f"短信平台拒绝：{message}", transient=False)
        provider_ref = answer.get("id") or answer.get("message_id") or answer.get("ref") or ref
        return SendResult(ref=str(provider_ref)[:100])


class WeChatGroupGateway(Gateway):
    code, label = "wechat", "微信群（生成文字，由老师粘贴到班级群）"
    needs_phone = False
    records_only = True

    def send(self, *, phone: str, text: str, ref: str) -> SendResult:
        return SendResult(ref="wechat")


GATEWAYS: dict[str, type[Gateway]] = {
    g.code: g for g in (ConsoleGateway, FileGateway, HttpGateway, WeChatGroupGateway)
}


def enabled_gateways() -> list[str]:
    value = conf("GUANAI_MESSAGE_GATEWAYS", "")
    codes = value if isinstance(value, list | tuple) else [c for c in value.split(",") if c]
    if not codes:
        codes = ["file", "wechat", "console"] + (["http"] if conf("GUANAI_SMS_URL") else [])
    return [c.strip() for c in codes if c.strip() in GATEWAYS]


def default_gateway() -> str:
    code = conf("GUANAI_MESSAGE_GATEWAY", "") or "file"
    return code if code in enabled_gateways() else enabled_gateways()[0]


def gateways_for(user) -> list[str]:
    """The enabled channels a user is offered: the test ones (console, file) only to those who
    run a town (and superusers), who try the set-up; a teacher sees what reaches families."""
    from guanai.accounts import scope

    runs_town = scope.towns(user, "manage").exists()
    return [c for c in enabled_gateways() if runs_town or not GATEWAYS[c].for_testing]


def default_gateway_for(user) -> str:
    """The default channel if the user is offered it, else the first offered ('' for none)."""
    offered = gateways_for(user)
    default = default_gateway()
    return default if default in offered else (offered[0] if offered else "")


def get_gateway(code: str) -> Gateway:
    if code not in GATEWAYS:
        raise GatewayError(f"没有发送通道“{code}”", transient=False)
    return GATEWAYS[code]()
