"""OpenAPI operation ids are unique and name the app and the function, not the file: splitting
an app's API module by topic does not rename its operations (clients generated from the
schema keep working)."""

import re

from guanai.api import api


def _operations():
    schema = api.get_openapi_schema()
    return [
        (path, method, op["operationId"])
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    ]


def test_operation_ids_are_unique():
    ids = [op for _, _, op in _operations()]
    assert len(ids) > 100
    assert len(ids) == len(set(ids))


def test_operation_ids_name_the_app_not_the_module():
    for path, method, op in _operations():
        assert re.fullmatch(r"guanai_[a-z]+_api_[a-z_]+", op), (path, method, op)
        assert not re.match(
            r"guanai_[a-z]+_api_(imports|verify|proxies|responsibility|rounds)_", op
        )


def test_a_moved_route_keeps_its_id():
    ids = {(path, method): op for path, method, op in _operations()}
    assert ids[("/api/v1/imports", "post")] == "guanai_screening_api_post_import"
    assert ids[("/api/v1/verifications", "get")] == "guanai_screening_api_list_verifications"
