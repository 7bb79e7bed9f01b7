"""The one error type for input that breaks a rule."""


class Invalid(Exception):
    """Input with field errors: {field: Chinese message}, keyed by the field's canonical name
    (`name`, `father.status`, `valid_from`, `since`).

    Forms show each message at its field, roster rows at their column, and the API answers 422
    with a `detail` item per field, labelled in Chinese (guanai/api.py). `source` says where an
    API client sent the fields: "body" (the default) or "query".
    """

    def __init__(self, errors: dict[str, str], *, source: str = "body"):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.source = source
