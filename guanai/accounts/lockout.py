"""What a locked-out login sees: JSON for the API, a Chinese page for people."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

MESSAGE = "登录失败次数过多：该用户名在此地址已锁定 15 分钟，请稍后再试或联系镇管理员。"


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": MESSAGE}, status=429)
    return render(request, "accounts/locked.html", {"message": MESSAGE}, status=429)
