"""`EncryptedText`: a text column kept encrypted at rest (AES-GCM over the field key ring,
`lib/crypto.py`), read and written as plain text by the rest of the code.

The Python value is the plain text; the stored value is the crypto token
(``gk1$<key id>$<base64>``), decrypted in `from_db_value`, so `.values()`, `.values_list()`,
forms, templates, exports and the API see the plain text. ``""`` stays ``""``: `field=""`
filters and the counts of what was not collected keep working. simple_history copies the field
to the history table as it is, so the history holds the same ciphertexts.

A ciphertext cannot be searched: a non-empty exact or `in` lookup would never match (every
token has its own nonce) and raises instead; `icontains` and friends are not offered. A column
that must be found by value needs a keyed-hash column beside it (`crypto.lookup_hashes`).
`startswith` takes only a `crypto.Token`, for `guanai rotate-key` to find values under older
keys.

A stored value that is not a token is returned as it is: the rows of a column between the
migration that widens it and the one that encrypts it, so the app reads them meanwhile.
"""

from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.models import lookups

from guanai.lib import crypto


def _refuse_plain(field: "EncryptedText", value: Any) -> None:
    if isinstance(value, str) and value and not isinstance(value, crypto.Token):
        raise FieldError(
            f"{field.model.__name__}.{field.name} is encrypted at rest: it can be compared "
            "with '' only (add a keyed-hash column to look a value up)"
        )


class EncryptedExact(lookups.Exact):
    def get_prep_lookup(self):
        _refuse_plain(self.lhs.output_field, self.rhs)
        return super().get_prep_lookup()


class EncryptedIn(lookups.In):
    def get_prep_lookup(self):
        for value in self.rhs if isinstance(self.rhs, list | tuple | set) else ():
            _refuse_plain(self.lhs.output_field, value)
        return super().get_prep_lookup()


class EncryptedStartsWith(lookups.StartsWith):
    def get_prep_lookup(self):
        if not isinstance(self.rhs, crypto.Token):
            raise FieldError("startswith on an encrypted column takes a crypto.Token")
        return super().get_prep_lookup()


_LOOKUPS = {
    "exact": EncryptedExact,
    "in": EncryptedIn,
    "startswith": EncryptedStartsWith,
    "isnull": lookups.IsNull,
}


class EncryptedText(models.TextField):
    """Text encrypted at rest. `max_length` limits the plain text in forms and `full_clean`
    (the column is TEXT: a token is longer than the text); `single_line` keeps the one-line
    input of a former CharField."""

    description = "Text encrypted at rest"

    def __init__(self, *args: Any, single_line: bool = False, **kwargs: Any) -> None:
        self.single_line = single_line
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        if self.single_line:
            kwargs["single_line"] = True
        return name, "guanai.lib.fields.EncryptedText", args, kwargs

    def get_lookup(self, lookup_name: str):
        return _LOOKUPS.get(lookup_name)

    def get_transform(self, lookup_name: str):
        return None

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value and value.startswith(crypto.PREFIX):
            return crypto.decrypt(value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "" or isinstance(value, crypto.Token):
            return value
        return crypto.encrypt(value)

    def formfield(self, **kwargs: Any):
        if self.single_line:
            defaults: dict[str, Any] = {
                "max_length": self.max_length,
                "form_class": forms.CharField,
            }
            defaults.update(kwargs)
            widget = defaults.get("widget")
            if widget is not None and (
                widget is forms.Textarea
                or isinstance(widget, forms.Textarea)
                or (isinstance(widget, type) and issubclass(widget, forms.Textarea))
            ):
                defaults.pop("widget")
            return models.Field.formfield(self, **defaults)
        return super().formfield(**kwargs)


# --- migrations ---------------------------------------------------------------------------


def _convert_column(connection, table: str, column: str, change, *, batch_size: int) -> int:
    """Rewrite every non-empty value of `table.column` through `change` (None: left as it
    is), `batch_size` rows per UPDATE batch, by primary key. Raw SQL: the values are read and
    written as stored, whatever the model of the moment declares."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        (pk_column,) = connection.introspection.get_primary_key_columns(cursor, table)
    t, c, pk = quote(table), quote(column), quote(pk_column)
    done, last = 0, None
    while True:
        with connection.cursor() as cursor:
            where = f"{c} <> ''" + ("" if last is None else f" AND {pk} > %s")
            cursor.execute(
                f"SELECT {pk}, {c} FROM {t} WHERE {where} ORDER BY {pk} LIMIT {int(batch_size)}",
                [] if last is None else [last],
            )
            rows = cursor.fetchall()
            if not rows:
                return done
            last = rows[-1][0]
            params = []
            for key, value in rows:
                new = change(value)
                if new is not None and new != value:
                    params.append([new, key, value])
            if params:
                cursor.executemany(f"UPDATE {t} SET {c} = %s WHERE {pk} = %s AND {c} = %s", params)
                done += len(params)


def _seal(value: str) -> str | None:
    return None if value.startswith(crypto.PREFIX) else crypto.encrypt(value)


def _unseal(value: str) -> str | None:
    return crypto.decrypt(value) if value.startswith(crypto.PREFIX) else None


def encrypt_columns(columns: dict[str, tuple[str, ...]], *, batch_size: int = 500):
    """A migration operation that encrypts the existing values of {table: columns} (history
    tables listed like any other), and decrypts them when the migration is reversed. Values
    already encrypted are skipped, so a run that stopped half-way can simply run again."""
    from django.db import migrations

    def run(change):
        def apply(apps, schema_editor) -> None:
            for table, names in columns.items():
                for column in names:
                    _convert_column(
                        schema_editor.connection, table, column, change, batch_size=batch_size
                    )

        return apply

    return migrations.RunPython(run(_seal), run(_unseal), elidable=False)
