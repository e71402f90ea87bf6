"""What the shop database keeps of a shopper, and how it is erased.

The shop database (SQLite file, WAL and shared-memory files included) never holds the shopper's
words in clear: conversation titles are sealed with the shopper's data key. Files are private
(0600). Erasure removes everything but the orders and returns a receipt; destroying the data key
makes even an old copy of the database unreadable where it held the shopper's words.
"""

from __future__ import annotations

import base64
import re
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from assistant import shopdb
from assistant.application import NotAllowed, Shop, SignInRefused, TurnError
from assistant.application.sealing import Sealer

PHRASE = "zebra marathon in Reykjavik"
CARD = "4111 1111 1111 1111"
FIRST_MESSAGE = f"trail shoes in size 9 for the {PHRASE}, card {CARD}"


def database_files(shop: Shop) -> list[Path]:
    path = Path(shop.engine.url.database)
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def holds(data: bytes, text: str) -> bool:
    """True if `text` is in `data` as raw bytes or inside any base64 run that decodes."""
    needle = text.encode()
    if needle in data:
        return True
    for run in re.findall(rb"[A-Za-z0-9+/=_-]{24,}", data):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                if needle in decode(run + b"=" * (-len(run) % 4)):
                    return True
            except ValueError:
                continue
    return False


@pytest.fixture
def alice(shop: Shop, signed_in):
    return signed_in(shop, "alice")


def test_the_shop_database_never_holds_the_shoppers_words(shop: Shop, alice) -> None:
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, FIRST_MESSAGE)
    assert shop.open(alice, session_id).title == FIRST_MESSAGE[:80]  # the owner reads it
    shop.engine.dispose()  # let SQLite write everything it holds
    files = database_files(shop)
    assert files
    for path in files:
        data = path.read_bytes()
        assert not holds(data, PHRASE), path
        assert not holds(data, CARD), path
    with sqlite3.connect(files[0]) as db:  # and not through SQL either
        dump = "\n".join(db.iterdump())
    assert PHRASE not in dump and CARD not in dump


def test_database_and_key_files_are_readable_by_their_owner_only(shop: Shop, alice) -> None:
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes")
    paths = [
        *database_files(shop),
        Path(shop.settings.secret_key_file),
        Path(shop.settings.shop_key_file),
    ]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_an_existing_world_readable_database_is_made_private(settings_at, tmp_path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    engine = shopdb.get_engine(f"sqlite:///{path}")
    shopdb.init_db(engine)
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_altered_or_moved_title_never_opens_to_wrong_text(shop: Shop, alice) -> None:
    first, second = shop.new_conversation(alice), shop.new_conversation(alice)
    shop.send(alice, first, "trail shoes for the first trip")
    shop.send(alice, second, "running shoes for the second")
    sealed = shopdb.get_conversation(shop.engine, first).title_sealed
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    shopdb.replace_title(shop.engine, first, flipped)
    shopdb.replace_title(shop.engine, second, sealed)  # first's title moved onto second
    titles = {c.session_id: c.title for c in shop.conversations(alice)}
    assert titles[first] == titles[second] == shopdb.NEW_TITLE


def test_titles_kept_in_clear_by_an_older_database_are_sealed_at_start(
    shop: Shop, alice, settings_at
) -> None:
    session_id = shop.new_conversation(alice)
    from sqlmodel import Session

    with Session(shop.engine) as session:  # as an older version wrote it
        row = session.get(shopdb.Conversation, session_id)
        row.title, row.title_sealed = f"old title {PHRASE}", None
        session.add(row)
        session.commit()
    reopened = Shop(settings=shop.settings)
    assert shopdb.get_conversation(shop.engine, session_id).title == shopdb.NEW_TITLE
    assert reopened.open(alice, session_id).title == f"old title {PHRASE}"
    reopened.engine.dispose()


def buy(shop: Shop, shopper, olga) -> str:
    """A conversation of `shopper` that ends in an approved order; its session id."""
    session_id = shop.new_conversation(shopper)
    shop.send(shopper, session_id, FIRST_MESSAGE)
    shop.send(shopper, session_id, "add the first one in size 9")
    approval = shop.send(shopper, session_id, "checkout").pending_approval
    shop.decide(olga, approval.id, {"action": "approve"})
    return session_id


def test_delete_my_data_removes_everything_but_the_orders_and_says_so(
    shop: Shop, alice, signed_in, tmp_path
) -> None:
    olga = signed_in(shop, "olga")
    bought = buy(shop, alice, olga)
    chatted = shop.new_conversation(alice)
    shop.send(alice, chatted, "hiking boots")
    carols = shop.new_conversation(signed_in(shop, "carol"))
    _, token = shop.sign_in("alice", "demo-alice")
    shop.engine.dispose()
    backup = tmp_path / "backup.db"
    shutil.copy(database_files(shop)[0], backup)  # a backup taken before the erasure

    receipt = shop.erase_my_data(alice)

    assert set(receipt.sessions_deleted) == {bought, chatted}
    assert receipt.registry_rows_removed == 2 and receipt.approvals_removed == 1
    assert receipt.data_key_destroyed and not receipt.account_removed
    assert receipt.sign_ins_revoked >= 1 and len(receipt.orders_kept) == 1
    assert PHRASE not in str(receipt.to_json())  # a receipt, not a copy of the data
    for session_id in (bought, chatted):  # gone from the session store itself
        with pytest.raises(ClientError) as gone:
            shop.client.get_session(sessionIdentifier=session_id)
        assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert shop.conversations(alice) == []
    assert shopdb.list_approvals(shop.engine, user="alice") == []
    order = shopdb.get_order(shop.engine, receipt.orders_kept[0])
    assert order.total > 0 and order.lines  # the shop's accounts keep the order
    assert shopdb.get_user(shop.engine, "alice").shoe_size is None  # profile forgotten
    with pytest.raises(TurnError):
        shop.principal(token)  # signed out everywhere
    assert [c.session_id for c in shop.conversations(signed_in(shop, "carol"))] == [carols]

    # The backup still has alice's sealed title, but her data key is gone: it cannot open.
    with sqlite3.connect(backup) as db:
        sealed = db.execute(
            "SELECT title_sealed FROM conversation WHERE session_id = ?", (bought,)
        ).fetchone()[0]
    assert (
        sealed
        and Sealer(shop.settings, shop.engine).unseal("alice", sealed, context=bought) is None
    )

    again = shop.erase_my_data(alice)  # running it again finds nothing left
    assert again.sessions_deleted == [] and again.registry_rows_removed == 0


def test_only_the_admin_deletes_a_shopper_and_the_account_goes_too(shop: Shop, signed_in) -> None:
    bob = signed_in(shop, "bob")
    session_id = shop.new_conversation(bob)
    shop.send(bob, session_id, "running shoes")
    for caller in ("alice", "olga", "oscar"):
        with pytest.raises(NotAllowed, match="Only an admin may delete a shopper"):
            shop.erase_shopper(signed_in(shop, caller), "bob")
    with pytest.raises(NotAllowed, match="Only a shopper may erase their data"):
        shop.erase_my_data(signed_in(shop, "olga"))
    with pytest.raises(TurnError, match="No shopper 'olga'"):
        shop.erase_shopper(signed_in(shop, "ada"), "olga")  # operators are not erased this way

    receipt = shop.erase_shopper(signed_in(shop, "ada"), "bob")
    assert receipt.account_removed and receipt.sessions_deleted == [session_id]
    assert receipt.requested_by == "ada" and receipt.subject == "bob"
    assert shopdb.get_user(shop.engine, "bob") is None
    with pytest.raises(SignInRefused):
        shop.sign_in("bob", "demo-bob")


def test_the_retention_cleanup_erases_conversations_the_same_way(shop: Shop, alice) -> None:
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, FIRST_MESSAGE)
    assert shop.cleanup(alice, older_than_days=0) == [session_id]
    assert shopdb.get_conversation(shop.engine, session_id) is None  # title row gone too


def test_on_aws_the_data_keys_come_from_kms_bound_to_the_shopper(settings_at, tmp_path) -> None:
    """With SHOP_KMS_KEY_ARN, each data key is made by KMS GenerateDataKey with the shopper as
    encryption context, and opened by KMS Decrypt with the same context (moto's KMS)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key_arn = kms.create_key(Description="shop data keys")["KeyMetadata"]["Arn"]
        settings = settings_at("http://127.0.0.1:9", tmp_path / "shop.db", shop_kms_key_arn=key_arn)
        engine = shopdb.get_engine(settings.database_url)
        shopdb.init_db(engine)
        calls: list[str] = []
        kms.meta.events.register("before-call.kms.*", lambda model, **_: calls.append(model.name))
        sealer = Sealer(settings, engine, kms_client=kms)
        sealed = sealer.seal("alice", FIRST_MESSAGE, context="s-1")
        assert shopdb.get_data_key(engine, "alice").key_id == key_arn
        fresh = Sealer(settings, engine, kms_client=kms)  # another process: unwraps through KMS
        assert fresh.unseal("alice", sealed, context="s-1") == FIRST_MESSAGE
        assert calls == ["GenerateDataKey", "Decrypt"]
        assert fresh.unseal("alice", sealed, context="s-2") is None  # bound to its place
        # alice's wrapped key under bob's name: KMS refuses the wrong encryption context.
        wrapped = shopdb.get_data_key(engine, "alice")
        shopdb.add_data_key(engine, "bob", wrapped.wrapped, wrapped.key_id)
        with pytest.raises(Exception, match="InvalidCiphertext"):
            Sealer(settings, engine, kms_client=kms).unseal("bob", sealed, context="s-1")
        assert fresh.forget("alice") and fresh.unseal("alice", sealed, context="s-1") is None
        engine.dispose()


def test_words_typed_in_chat_are_in_neither_database_file(settings_at, tmp_path) -> None:
    """The whole app as `up` runs it: the phrase and the card number typed in chat are nowhere
    in the session store's files or the shop database's (WAL included), raw or base64-decoded,
    while the shopper reads them back."""
    from bedrock_sessions_local.testing import running_service

    sessions = tmp_path / "sessions.db"
    with running_service(db=sessions) as url:  # encrypted by default, as `up` runs it
        shop = Shop(settings=settings_at(url, tmp_path / "shop.db"))
        alice, _ = shop.sign_in("alice", "demo-alice")
        session_id = shop.new_conversation(alice)
        shop.send(alice, session_id, FIRST_MESSAGE)
        shop.send(alice, session_id, f"also note {PHRASE} and {CARD} again")
        said = [m.text for m in shop.messages(alice, session_id) if m.type == "human"]
        assert any(CARD in text for text in said)  # the shopper's own words come back
        shop.engine.dispose()
    files = [p for p in tmp_path.iterdir() if p.name.startswith(("sessions.db", "shop.db"))]
    assert {p.name for p in files} >= {"sessions.db", "shop.db"}
    for path in files:
        data = path.read_bytes()
        assert not holds(data, PHRASE) and not holds(data, CARD), path
