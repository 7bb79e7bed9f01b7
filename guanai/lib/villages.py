"""Village names as people type them: `枫树村`, `枫树`, ` 枫树村 `, `枫树村委会` are one village.

Pure helpers, no models. `normalize_village` tidies a name (NFKC, no whitespace), which pairing
compares for "same 村"; `village_key` is the village's key (the tidied name without the 村 /
村委会 suffix), which a children's director's role holds; `village_names` are the spellings of
a key a card may carry, for a query filter (`Child.village__in`), so no stored column has to be
kept in step with every write path.
"""

import unicodedata

# Longest first: 枫树村民委员会 → 枫树, not 枫树村民委员.
_SUFFIXES = ("村民委员会", "村委会", "村")


def normalize_village(value: str | None) -> str:
    """NFKC, without any whitespace; '' when blank."""
    return "".join(unicodedata.normalize("NFKC", value or "").split())


def village_key(value: str | None) -> str:
    """The village's key: `枫树村` = `枫树` = `枫树村委会` → `枫树`; '' when blank. A name that is
    only the suffix (`村`) is kept as it is."""
    text = normalize_village(value)
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def village_names(value: str | None) -> list[str]:
    """The spellings of a village a card's 村 field may hold for one key (as typed in the usual
    ways): `枫树` → [`枫树`, `枫树村`, `枫树村委会`, `枫树村民委员会`]. [] when blank."""
    key = village_key(value)
    if not key:
        return []
    return [key] + [key + suffix for suffix in reversed(_SUFFIXES)]


def village_label(value: str | None) -> str:
    """How a page names the village: `枫树` → `枫树村`."""
    key = village_key(value)
    return key if not key or key.endswith(("村", "社区", "居委会")) else key + "村"
