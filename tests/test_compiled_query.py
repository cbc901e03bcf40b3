"""Querysets compiled once (casemgmt.db.compiled): same rows as the ORM, values always bound."""

from __future__ import annotations

import contextvars
import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from api.authentication import _TOKEN_STATEMENT, _token_statement
from casemgmt.db.compiled import CompiledValuesQuery
from casemgmt.models import User

pytestmark = pytest.mark.django_db


def test_the_compiled_statement_gives_the_orms_rows_with_the_databases_converters(case_manager, town) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import Membership, Role
    from tests.factories import setup_writes

    with setup_writes():
        Membership.objects.create(user=case_manager, organisation=town, role=Role.SUPERVISOR)
    _, token = AuthToken.objects.create(user=case_manager, expiry=datetime.timedelta(hours=1))
    key = token[:15]
    compiled = _TOKEN_STATEMENT.rows(key)
    assert compiled == list(_token_statement(key))
    assert len(compiled) == 2  # one row per membership
    row = compiled[0]
    assert any(isinstance(value, uuid.UUID) for value in row)  # SQLite's text converted back
    assert any(isinstance(value, datetime.datetime) and value.tzinfo for value in row)
    assert _TOKEN_STATEMENT.rows("no-such-key") == []


def test_a_value_is_a_bound_parameter_never_sql(case_manager) -> None:  # type: ignore[no-untyped-def]
    hostile = "x' OR '1'='1"
    AuthToken.objects.create(user=case_manager)
    with CaptureQueriesContext(connection) as ctx:
        assert _TOKEN_STATEMENT.rows(hostile) == []
    assert len(ctx.captured_queries) == 1


def test_the_queryset_is_built_once_per_connection(case_manager) -> None:  # type: ignore[no-untyped-def]
    built: list[str] = []

    def build(value: str):  # type: ignore[no-untyped-def]
        built.append(value)
        return User.objects.filter(username=value).values_list("id", "username")

    statement = CompiledValuesQuery("test-built-once", build)
    name = case_manager.username
    assert statement.rows(name) == [(case_manager.pk, name)]
    assert statement.rows("nobody") == []
    assert statement.rows(name) == [(case_manager.pk, name)]
    assert len(built) == 1


@pytest.mark.parametrize("uses", [0, 2])
def test_the_marker_must_be_exactly_one_parameter(uses: int) -> None:
    def build(value: str):  # type: ignore[no-untyped-def]
        queryset = User.objects.filter(username="fixed")
        for _ in range(uses):
            queryset = queryset.filter(username=value)
        return queryset.values_list("id")

    with pytest.raises(ValueError, match="exactly one parameter"):
        CompiledValuesQuery(f"test-marker-{uses}", build).rows("anna")


def test_two_statements_of_the_same_name_keep_their_own_sql(case_manager, town) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import Organisation

    users = CompiledValuesQuery("test-same-name", lambda v: User.objects.filter(username=v).values_list("id"))
    orgs = CompiledValuesQuery(
        "test-same-name", lambda v: Organisation.objects.filter(name=v).values_list("id")
    )
    assert users.rows(case_manager.username) == [(case_manager.pk,)]
    assert orgs.rows(town.name) == [(town.pk,)]


# --- CompiledInsert: the read audit's entry


def _entry_row(pk: int) -> dict[str, object]:
    from privacy.models import AuditEntry

    row = AuditEntry.objects.filter(pk=pk).values().get()
    row.pop("id")
    row.pop("timestamp")
    return row


def test_a_compiled_insert_writes_the_row_save_writes(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """Same entry through save() and through the compiled INSERT: every column equal, the
    receivers of pre_save (actor, address and port from auditlog's request context) applied."""
    from auditlog.context import set_actor
    from django.contrib.contenttypes.models import ContentType

    from casemgmt.db.compiled import CompiledInsert
    from casemgmt.models import Family
    from privacy.models import AuditEntry

    def entry() -> AuditEntry:
        return AuditEntry(
            content_type=ContentType.objects.get_for_model(Family),
            object_repr="2 families",
            object_ids=["a", "b"],
            action=AuditEntry.Action.ACCESS,
            activity="case_management",
            organisation_id=district.pk,
            additional_data={"endpoint": "GET /x", "filters": ["q"], "personal_data": True},
        )

    compiled = CompiledInsert(AuditEntry)
    saved, fast = entry(), entry()

    def in_request() -> None:
        with set_actor(case_manager, remote_addr="10.1.2.3", remote_port=4711):
            saved.save()
            compiled.insert(fast)

    with CaptureQueriesContext(connection) as ctx:
        # auditlog's context stays set after its block: run it in a context of its own
        contextvars.copy_context().run(in_request)
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["INSERT", "INSERT"]
    assert isinstance(fast.pk, int) and fast.pk > saved.pk
    assert not fast._state.adding and fast._state.db == "default"
    assert _entry_row(fast.pk) == _entry_row(saved.pk)
    row = _entry_row(fast.pk)
    assert (row["actor_id"], row["remote_addr"], row["remote_port"]) == (case_manager.pk, "10.1.2.3", 4711)


def test_a_compiled_insert_sends_the_signals_once_and_takes_expressions(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Subquery
    from django.db.models.signals import post_save, pre_save

    from casemgmt.db.compiled import CompiledInsert
    from casemgmt.models import Family, Membership
    from privacy.models import AuditEntry

    seen: list[str] = []

    def pre(sender, instance, **kwargs):  # type: ignore[no-untyped-def]
        seen.append("pre")

    def post(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(f"post created={created} pk={instance.pk is not None}")

    pre_save.connect(pre, sender=AuditEntry, dispatch_uid="test-pre")
    post_save.connect(post, sender=AuditEntry, dispatch_uid="test-post")
    try:
        compiled = CompiledInsert(AuditEntry)
        first_membership = Membership.objects.filter(user=case_manager).values("organisation_id")[:1]
        for organisation in (district.pk, Subquery(first_membership)):
            entry = AuditEntry(
                content_type=ContentType.objects.get_for_model(Family),
                object_repr="1 family",
                action=AuditEntry.Action.ACCESS,
                actor=case_manager,
                activity="case_management",
                organisation_id=organisation,
            )
            compiled.insert(entry)
            assert AuditEntry.objects.get(pk=entry.pk).organisation_id == district.pk
    finally:
        pre_save.disconnect(sender=AuditEntry, dispatch_uid="test-pre")
        post_save.disconnect(sender=AuditEntry, dispatch_uid="test-post")
    assert seen == ["pre", "post created=True pk=True"] * 2


def test_a_read_entry_is_one_insert_and_verifies_in_the_chain(case_manager) -> None:  # type: ignore[no-untyped-def]
    """The list's read entry goes through the compiled INSERT and is sealed like any other."""
    from privacy.models import AuditEntry
    from privacy.transparency import seal, verify_log
    from tests.conftest import client_for
    from tests.factories import make_family

    make_family(case_manager)
    before = AuditEntry.objects.count()
    response = client_for(case_manager).get("/api/v1/families/")
    assert response.status_code == 200
    entry = AuditEntry.objects.order_by("-pk").first()
    assert AuditEntry.objects.count() == before + 1 and entry is not None
    assert entry.action == AuditEntry.Action.ACCESS and entry.actor_id == case_manager.pk
    assert entry.object_ids == [item["id"] for item in response.json()["results"]]
    seal()
    report = verify_log()
    assert report.ok, report.problems


# --- inline_constants: the statement's constants as literals, the caller's values as parameters


def test_constants_become_literals_and_the_callers_values_stay_parameters(case_manager) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.db.compiled import inline_constants

    sql = "SELECT CAST(%s AS TEXT), CAST(%s AS TEXT), CAST(%s AS TEXT)"
    hostile = "x' ; DROP TABLE casemgmt_family; --"
    caller = str(case_manager.pk)
    composed, params = inline_constants(sql, ["50%", hostile, caller], lambda _i, p: p == caller)
    with connection.cursor() as cursor:
        cursor.execute(composed, params)
        assert cursor.fetchone() == ("50%", hostile, caller)  # quoted by the driver, not spliced
    if connection.vendor == "postgresql":
        assert params == [caller] and composed.count("%s") == 1
    else:  # SQLite plans every statement anew: nothing to gain, nothing changed
        assert (composed, params) == (sql, ["50%", hostile, caller])
    # SQL whose % signs are not all placeholders is left alone
    assert inline_constants("SELECT '%%' || %s", ["a"], lambda _i, _p: False)[1] == ["a"]


def test_the_access_rule_sends_only_the_user_and_the_time(case_manager) -> None:  # type: ignore[no-untyped-def]
    """The rule's permission ids and role are literals of its SQL (a generic plan knows them);
    the user and the time are its only parameters, bound per request."""
    import datetime as dt

    from django.db import DEFAULT_DB_ALIAS

    from casemgmt.policies import VIEW_FAMILY, _compiled_rule

    granted, organisations = _compiled_rule(VIEW_FAMILY, DEFAULT_DB_ALIAS)
    for rule in (granted, organisations):
        if connection.vendor == "postgresql":
            assert len(rule.params) == len(rule.user_slots) + len(rule.now_slots)
        bound = rule.bind(case_manager.pk, dt.datetime.now(dt.UTC), DEFAULT_DB_ALIAS)
        assert str(case_manager.pk.hex) not in bound.sql and str(case_manager.pk) not in bound.sql
