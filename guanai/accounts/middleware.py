"""三权分立 by construction: an account that holds only the audit role reaches the access log
and its own account, and nothing else — every other page and API route answers 403, whatever
that page's own scope would have shown (an empty list is still a list of children).

Scope already gives an auditor no child (the audit role is in no row of the scope table but
`audit` and `review_emergency`); this is the second lock, in one place, so a new page cannot
forget it. Installed in settings.MIDDLEWARE after AuthenticationMiddleware."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect

# Pages an auditor opens: the log, the emergency openings he reviews, his account, help.
AUDITOR_PAGES = {
    "accounts:login",
    "accounts:otp",
    "accounts:logout",
    "accounts:account",
    "accounts:token_revoke",
    "accounts:twofa",
    "accounts:access_log",
    "accounts:emergencies",
    "accounts:emergency_review",
    "accounts:access_request",
    "help",
    "healthz",
}
# Pages that must not read (or extend) the session: the offline app's service worker and its
# offline notice, the health check. They show no data, so nobody is kept out of them.
SESSION_FREE = {"offline:sw", "offline:notice", "healthz"}
# API routes: tokens for his own programs, the emergency openings to review.
AUDITOR_API = ("/api/v1/auth/token", "/api/v1/auth/emergency-access")


def _bearer_user(request: HttpRequest):
    """The holder of a bearer token if he holds the audit role, else None: one query for
    everyone else (the API authenticates the token itself afterwards)."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    from .models import AUDIT_ONLY_ROLES, ApiToken

    token = (
        ApiToken.objects.live()
        .filter(
            key_hash=ApiToken.digest(header[7:].strip()),
            user__role_assignments__role__in=AUDIT_ONLY_ROLES,
        )
        .select_related("user")
        .first()
    )
    return token.user if token is not None else None


class AuditorOnlyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        path = request.path_info
        match = request.resolver_match
        if match is not None and match.view_name in SESSION_FREE:
            return None
        api = path.startswith("/api/")
        user = getattr(request, "user", None)
        if api and (user is None or not user.is_authenticated):
            user = _bearer_user(request)
        if user is None or not user.is_authenticated or not user.is_auditor_only:
            return None
        if api:
            if path.startswith(AUDITOR_API):
                return None
            return JsonResponse(
                {"detail": "审计员只能查看访问日志"},
                status=403,
                json_dumps_params={"ensure_ascii": False},
            )
        name = match.view_name if match else ""
        if name == "home":
            return redirect("accounts:access_log")
        if name in AUDITOR_PAGES or path.startswith("/static/"):
            return None
        raise PermissionDenied("审计员只能查看访问日志")
