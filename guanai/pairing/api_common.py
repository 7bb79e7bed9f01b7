"""What the pairing, responsibility and proxy-parent routers share. (Their 422 bodies and the
Chinese names of their fields are the API's: guanai/api_common.py.)"""

from guanai.accounts.models import User


def user_label(user: User | None) -> str | None:
    return str(user) if user is not None else None
