import pytest


@pytest.fixture(autouse=True)
def _contacts_settings(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.DATA_DIR = tmp_path / "data"
    settings.GUANAI_MESSAGE_FILE = str(tmp_path / "outbox.jsonl")
    settings.GUANAI_MESSAGE_BACKOFF = 0.001
    settings.GUANAI_MESSAGE_RATE = 10000
