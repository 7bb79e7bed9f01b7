"""Cell and field text normalisation shared by forms, API bodies and roster rows."""

import unicodedata


def clean(value: object) -> str:
    """NFKC-normalise and trim any value to text; None becomes ''.

    NFKC turns full-width digits, letters and brackets (１２３, （２）) into their ASCII forms,
    which is what teachers' sheets are full of.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return text.strip().replace("\u3000", " ").strip()


def digits_of_number(value: object) -> str:
    """The digits a spreadsheet meant when it stored an integer as a float (13812345678.0)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    text = clean(value)
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text
