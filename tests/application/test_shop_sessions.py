"""Conversations are Bedrock sessions: tags and metadata, per-user lists, end, delete, cleanup.

Checked from both sides: through `Shop`, and through a plain boto3 client on the local session
service (what an operator with the AWS CLI, or IAM on AWS, would see).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from sqlmodel import Session

from assistant.application.shop import Shop, TurnError
from assistant.shopdb import Conversation


@pytest.fixture
def sessions_api(session_service_url: str):
    """A boto3 bedrock-agent-runtime client on the module's local session service."""
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=session_service_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def error_code(call, **kwargs) -> str:
    """The AWS error code a session API call fails with."""
    with pytest.raises(ClientError) as failed:
        call(**kwargs)
    return failed.value.response["Error"]["Code"]


def backdate(shop: Shop, session_id: str, days: int) -> None:
    """Pretend the conversation was last active `days` ago."""
    with Session(shop.engine) as db:
        conversation = db.get(Conversation, session_id)
        conversation.updated_at = datetime.now(UTC) - timedelta(days=days)
        db.add(conversation)
        db.commit()


def test_a_conversation_is_a_session_tagged_with_user_tenant_and_app(
    shop: Shop, sessions_api, signed_in
) -> None:
    alice, bob = signed_in(shop, "alice"), signed_in(shop, "bob")
    session_id = shop.new_conversation(alice)

    session = sessions_api.get_session(sessionIdentifier=session_id)
    assert session["sessionStatus"] == "ACTIVE"
    assert session["sessionMetadata"] == {
        "user": "alice",
        "tenant": "tenant-a",
        "app": shop.settings.app_name,
    }
    tags = sessions_api.list_tags_for_resource(resourceArn=session["sessionArn"])["tags"]
    assert tags == {"user": "alice", "tenant": "tenant-a", "app": shop.settings.app_name}

    bobs = shop.new_conversation(bob)
    bob_session = sessions_api.get_session(sessionIdentifier=bobs)
    bob_tags = sessions_api.list_tags_for_resource(resourceArn=bob_session["sessionArn"])["tags"]
    assert bob_tags["user"] == "bob" and bob_tags["tenant"] == shop.profile(bob).tenant


def test_a_turn_is_stored_as_invocations_and_steps_of_the_session(
    shop: Shop, sessions_api, signed_in
) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes")

    invocations = sessions_api.list_invocations(sessionIdentifier=session_id)
    assert invocations["invocationSummaries"]
    steps = sessions_api.list_invocation_steps(sessionIdentifier=session_id)
    assert len(steps["invocationStepSummaries"]) >= 3  # input, agent, tools, agent


def test_each_user_lists_only_their_own_conversations_newest_first(shop: Shop, signed_in) -> None:
    alice, bob, ada = signed_in(shop, "alice"), signed_in(shop, "bob"), signed_in(shop, "ada")
    first = shop.new_conversation(alice)
    shop.send(alice, first, "trail shoes")
    bobs = shop.new_conversation(bob)
    second = shop.new_conversation(alice)
    shop.send(alice, second, "sandals")

    mine = shop.conversations(alice)
    assert [c.session_id for c in mine] == [second, first]
    assert [c.title for c in mine] == ["sandals", "trail shoes"]
    assert all(c.user == "alice" and c.tenant == "tenant-a" for c in mine)
    assert [c.session_id for c in shop.conversations(bob)] == [bobs]
    assert {c.session_id for c in shop.conversations(ada)} == {first, second, bobs}


def test_an_ended_conversation_stays_readable_and_takes_no_more_turns(
    shop: Shop, sessions_api, signed_in
) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes")
    messages = [m.text for m in shop.messages(alice, session_id)]

    shop.end(alice, session_id)

    assert sessions_api.get_session(sessionIdentifier=session_id)["sessionStatus"] == "ENDED"
    assert shop.open(alice, session_id).status == "ENDED"
    assert [c.status for c in shop.conversations(alice)] == ["ENDED"]
    assert [m.text for m in shop.messages(alice, session_id)] == messages
    assert shop.history(alice, session_id)
    with pytest.raises(TurnError, match="ended"):
        shop.send(alice, session_id, "sandals")


def test_a_session_ended_elsewhere_is_seen_as_ended(shop: Shop, sessions_api, signed_in) -> None:
    alice = signed_in(shop, "alice")
    # Bedrock is the truth about a session's status; the registry follows it.
    session_id = shop.new_conversation(alice)
    sessions_api.end_session(sessionIdentifier=session_id)

    with pytest.raises(TurnError, match="ended"):
        shop.send(alice, session_id, "trail shoes")
    assert shop.conversations(alice)[0].status == "ENDED"


def test_a_deleted_conversation_is_gone_from_bedrock_and_from_the_list(
    shop: Shop, sessions_api, signed_in
) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes")
    kept = shop.new_conversation(alice)

    shop.delete(alice, session_id)

    code = error_code(sessions_api.get_session, sessionIdentifier=session_id)
    assert code == "ResourceNotFoundException"
    assert [c.session_id for c in shop.conversations(alice)] == [kept]
    with pytest.raises(TurnError):
        shop.send(alice, session_id, "hello")
    with pytest.raises(TurnError):
        shop.open(alice, session_id)


def test_a_session_deleted_elsewhere_is_reported_and_dropped_from_the_list(
    shop: Shop, sessions_api, signed_in
) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    sessions_api.end_session(sessionIdentifier=session_id)
    sessions_api.delete_session(sessionIdentifier=session_id)

    with pytest.raises(TurnError, match="no longer exists"):
        shop.send(alice, session_id, "hello")
    assert shop.conversations(alice) == []


def test_cleanup_deletes_idle_conversations_only(shop: Shop, sessions_api, signed_in) -> None:
    alice, bob, ada = signed_in(shop, "alice"), signed_in(shop, "bob"), signed_in(shop, "ada")
    idle = shop.new_conversation(alice)
    shop.send(alice, idle, "trail shoes")
    ended_idle = shop.new_conversation(bob)
    shop.end(bob, ended_idle)
    recent = shop.new_conversation(alice)
    backdate(shop, idle, days=40)
    backdate(shop, ended_idle, days=31)

    deleted = shop.cleanup(ada)  # the default retention: 30 days

    assert set(deleted) == {idle, ended_idle}
    for session_id in deleted:
        code = error_code(sessions_api.get_session, sessionIdentifier=session_id)
        assert code == "ResourceNotFoundException"
    assert [c.session_id for c in shop.conversations(ada)] == [recent]
    assert sessions_api.get_session(sessionIdentifier=recent)["sessionStatus"] == "ACTIVE"

    # older_than_days=0: everything left is idle; a progress bar sees each one.
    seen: list[str] = []

    def progress(items):
        for item in items:
            seen.append(item)
            yield item

    assert shop.cleanup(ada, older_than_days=0, progress=progress) == [recent]
    assert seen == [recent]
    assert shop.conversations(ada) == []
    assert error_code(sessions_api.get_session, sessionIdentifier=recent) == (
        "ResourceNotFoundException"
    )
    assert shop.cleanup(ada, older_than_days=0) == []  # nothing left, nothing fails
