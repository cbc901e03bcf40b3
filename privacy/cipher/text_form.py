"""The earlier text form of encrypted values, and the conversion of its columns to binary.

Until migration ``casemgmt.0023``/``privacy.0013`` an encrypted column was ``text`` holding
``<version>:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``. The binary form
(``privacy.cipher.crypto``) holds the same version, key id, nonce, ciphertext and tag, and
the associated data did not change: converting a column re-packs its values and never needs
a key. The binary form's header (version byte, key id) is defined here, once, for both this
conversion and ``crypto``. Frozen: migrations import this module, so it must keep doing
exactly this.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

#: The text form, whole: version, key id, base64url with padding.
_BASE64URL = r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?"
TEXT_FORM = re.compile(rf"(e[12]):([A-Za-z0-9_.-]{{1,40}}):({_BASE64URL})")
#: The version byte of each envelope version, and back.
VERSION_BYTES = {"e2": 2, "e1": 1}
VERSIONS = {byte: version for version, byte in VERSION_BYTES.items()}
#: What a key id may be (and what messages may show of a stored value's header).
KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
#: PostgreSQL: the same re-packing as :func:`binary_of`, in SQL (``{c}`` is the column).
_PG_BINARY_OF = (
    "CASE WHEN {c} = '' THEN ''::bytea ELSE "
    "decode(CASE split_part({c}, ':', 1) WHEN 'e2' THEN '02' WHEN 'e1' THEN '01' END"
    " || lpad(to_hex(length(split_part({c}, ':', 2))), 2, '0'), 'hex')"
    " || convert_to(split_part({c}, ':', 2), 'UTF8')"
    " || decode(translate(split_part({c}, ':', 3), '-_', '+/'), 'base64') END"
)
_PG_TEXT_FORM = rf"^e[12]:[A-Za-z0-9_.-]{{1,40}}:{_BASE64URL}$"
#: PostgreSQL: :func:`text_of` in SQL, and the values it would not convert.
_PG_TEXT_OF = (
    "CASE WHEN length({c}) = 0 THEN '' ELSE "
    "CASE get_byte({c}, 0) WHEN 2 THEN 'e2' WHEN 1 THEN 'e1' END"
    " || ':' || convert_from(substring({c} from 3 for get_byte({c}, 1)), 'UTF8')"
    " || ':' || translate(replace(encode(substring({c} from 3 + get_byte({c}, 1)), 'base64'),"
    " E'\\n', ''), '+/', '-_')"
    " END"
)
_PG_NOT_BINARY_FORM = (  # a CASE, because OR does not promise to test the length first
    "CASE WHEN length({c}) < 2 THEN true WHEN get_byte({c}, 0) NOT IN (1, 2) THEN true"
    " WHEN length({c}) < 2 + get_byte({c}, 1) THEN true"
    " ELSE encode(substring({c} from 3 for get_byte({c}, 1)), 'escape') !~ '^[A-Za-z0-9_.-]{{1,40}}$' END"
)


class BadKeyId(ValueError):
    """A binary value whose key id part is no key id (``kid``: that part, never to be shown)."""

    def __init__(self, kid: str) -> None:
        super().__init__("no valid key id")
        self.kid = kid


def header(version: str, kid: str) -> bytes:
    """The binary form's first bytes for ``version`` and key id ``kid``."""
    encoded = kid.encode("ascii")
    if not 0 < len(encoded) < 256:
        raise ValueError("A key id is 1 to 255 ASCII characters.")
    return bytes((VERSION_BYTES[version], len(encoded))) + encoded


def split_binary(binary: bytes) -> tuple[str, str, bytes]:
    """Version, key id and body (nonce, ciphertext, tag) of a value in the binary form.

    ``ValueError`` if it is not one, ``BadKeyId`` if its key id part is no key id.
    """
    if len(binary) < 2 or binary[0] not in VERSIONS:
        raise ValueError("not an encrypted value in the binary form")
    end = 2 + binary[1]
    kid = binary[2:end].decode("latin-1")
    if len(binary) < end or not KEY_ID.fullmatch(kid):
        raise BadKeyId(kid)
    return VERSIONS[binary[0]], kid, binary[end:]


def binary_of(text: str) -> bytes:
    """The binary form of a value in the text form; ``ValueError`` if it is not one."""
    match = TEXT_FORM.fullmatch(text)
    if match is None:
        raise ValueError("not an encrypted value in the text form")
    version, kid, body = match.groups()
    try:
        sealed = binascii.a2b_base64(body.encode("ascii").translate(_FROM_URLSAFE), strict_mode=True)
    except binascii.Error:
        raise ValueError("not valid base64") from None
    return header(version, kid) + sealed


def text_of(binary: bytes) -> str:
    """The text form of a binary value (for a migration back); ``ValueError`` if it is not one."""
    version, kid, body = split_binary(binary)
    return (
        f"{version}:{kid}:{binascii.b2a_base64(body, newline=False).translate(_TO_URLSAFE).decode('ascii')}"
    )


def _encrypted_columns(apps: Any, app_label: str) -> list[tuple[Any, list[str]]]:
    found = []
    for model in apps.get_app_config(app_label).get_models():
        columns = [f.column for f in model._meta.local_concrete_fields if getattr(f, "encrypted", False)]
        if columns:
            found.append((model, columns))
    return found


def convert_columns(app_label: str, *, to_text: bool = False) -> Any:
    """A ``RunPython`` function converting ``app_label``'s encrypted text columns to binary
    (``to_text``: back, for a migration backwards).

    PostgreSQL: one ``ALTER TABLE … TYPE … USING …`` per table, after checking that every value
    is in the form converted from (a value that is not would otherwise become ``NULL``);
    columns already in the target form (a database created after this change) are left
    alone. SQLite: every value is re-packed in place (a column's declared type does not bind
    its values there). A value in neither form stops the migration; its message names the
    column, never the value.
    """

    def convert(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        quote = schema_editor.quote_name
        for model, columns in _encrypted_columns(apps, app_label):
            table = model._meta.db_table
            if connection.vendor == "postgresql":
                _convert_postgresql(connection, quote, table, columns, to_text=to_text)
            else:
                _convert_in_python(connection, quote, table, model._meta.pk.column, columns, to_text=to_text)

    return convert


def _refuse(table: str, column: str, bad: int, form: str) -> ValueError:
    return ValueError(
        f"{table}.{column}: {bad} values are not encrypted values in the {form} form; "
        "not converting (check_keys names them)."
    )


def _convert_postgresql(
    connection: Any, quote: Any, table: str, columns: list[str], *, to_text: bool = False
) -> None:
    source_types = ("bytea",) if to_text else ("text", "character varying")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = %s AND column_name = ANY(%s) AND data_type = ANY(%s)",
            [table, columns, list(source_types)],
        )
        found = [row[0] for row in cursor.fetchall()]
        if not found:
            return
        for column in found:
            c = quote(column)
            if to_text:
                check = f"length({c}) > 0 AND ({_PG_NOT_BINARY_FORM.format(c=c)})"
                params: list[Any] = []
            else:
                check = f"{c} <> '' AND {c} !~ %s"
                params = [_PG_TEXT_FORM]
            cursor.execute(f"SELECT count(*) FROM {quote(table)} WHERE {check}", params)  # noqa: S608
            (bad,) = cursor.fetchone()
            if bad:  # names the column and the count, never a value
                raise _refuse(table, column, bad, "binary" if to_text else "text")
        target, expression = ("text", _PG_TEXT_OF) if to_text else ("bytea", _PG_BINARY_OF)
        changes = ", ".join(
            f"ALTER COLUMN {quote(c)} TYPE {target} USING {expression.format(c=quote(c))}" for c in found
        )
        cursor.execute(f"ALTER TABLE {quote(table)} {changes}")


def _convert_in_python(
    connection: Any, quote: Any, table: str, pk: str, columns: list[str], *, to_text: bool = False
) -> None:
    source, convert = ("blob", text_of) if to_text else ("text", binary_of)
    with connection.cursor() as cursor:
        for column in columns:
            cursor.execute(
                f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)}"  # noqa: S608
                f" WHERE typeof({quote(column)}) = %s AND length({quote(column)}) > 0",
                [source],
            )
            rows = cursor.fetchall()
            try:
                converted = [(convert(value), key) for key, value in rows]
            except ValueError:
                raise _refuse(table, column, 1, "binary" if to_text else "text") from None
            cursor.executemany(
                f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s",  # noqa: S608
                converted,
            )
