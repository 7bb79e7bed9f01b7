"""`guanai` console script: Django's manage commands under friendlier names.

`guanai init`, `guanai demo`, `guanai serve`, `guanai add-school`, `guanai import-roster` …
Hyphens in the command name map to Django's underscores.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanai.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["guanai", *args])


if __name__ == "__main__":
    main()
