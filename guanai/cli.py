"""`guanai` console script: Django's manage commands under friendlier names.

`guanai init`, `guanai demo`, `guanai serve`, `guanai add-school`, `guanai import-roster` …
Hyphens in the command name map to Django's underscores. A database that cannot be reached or
written is one Chinese sentence and exit status 2, not a traceback (guanai/lib/db_errors.py).
"""


def main(argv: list[str] | None = None) -> None:
    from guanai.lib.db_errors import run_cli

    run_cli(argv)


if __name__ == "__main__":
    main()
