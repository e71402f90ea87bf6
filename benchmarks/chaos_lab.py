"""The chaos run's laboratory: a session service process to kill, commands to kill, a shop to check.

Used by `benchmarks/chaos.py` (see its docstring for the scenarios and the goals).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session

from assistant import shopdb
from assistant.application import Principal, Shop, TurnError
from assistant.settings import Settings
from assistant.shopdb import StockLevel

# The other process: reads conversations on request, with a Shop of its own, signed in as the
# conversation's owner by a sign-in token (as the CLI is).
READER = """
import json, sys
from assistant.application import Shop
shop = Shop()
for line in sys.stdin:
    token, session_id = json.loads(line)
    try:
        who = shop.principal(token)
        shop.open(who, session_id)
        answer = {"messages": [m.text for m in shop.messages(who, session_id)]}
    except Exception as error:
        answer = {"error": str(error)}
    print(json.dumps(answer), flush=True)
"""
PRODUCT_QUERY = "trail shoes in size 9"
ADD = "add the first one in size 9"
APPROVE = {"action": "approve"}
# The demo accounts the run acts as (data/users.json; each password is "demo-<username>"), and
# the store operator who decides the checkouts of each tenant.
SHOPPERS = ("alice", "bob", "carol")
OPERATORS = {"tenant-a": "olga", "tenant-b": "oscar"}
LEASE_SECONDS = 1.0
NO_FAULTS = {
    "throttle_rate": 0.0,
    "internal_error_rate": 0.0,
    "commit_error_rate": 0.0,
    "commit_drop_rate": 0.0,
    "slow_response_rate": 0.0,
}


@dataclass
class Tally:
    """One row of the result table."""

    scenario: str
    rounds: int = 0
    completed: int = 0
    recovered: int = 0
    stuck: int = 0
    duplicates: int = 0
    failed_turns: int = 0
    turns: int = 0
    notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def note(self, text: str) -> None:
        with self.lock:
            if len(self.notes) < 5:
                self.notes.append(text)


class Lab:
    """A session service process, a shop database, and ways to break both."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sessions_db = folder / "sessions.db"
        self.shop_db = folder / "shop.db"
        self.service: subprocess.Popen | None = None
        self.reader: subprocess.Popen | None = None
        self.reader_lock = threading.Lock()
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("SHOE_ASSISTANT_TOKEN", "SECRET_KEY")
            },
            "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": self.url,
            "DATABASE_URL": f"sqlite:///{self.shop_db}",
            "SESSION_STORE": "local",
            # the lab's service runs in plain mode: faults are under test here, not signatures
            "LOCAL_SESSION_IAM": "false",
            "MODEL": "offline",
            "APPROVAL_LEASE_SECONDS": str(LEASE_SECONDS),
            "SESSION_READ_TIMEOUT": "2",
            # the lab's own keys (sign-in tokens, sealed shop data), not the checkout's var/;
            # `login` would write in the lab, not in ~/.config
            "SECRET_KEY_FILE": str(folder / "secret-key"),
            "SHOP_KEY_FILE": str(folder / "shop-key"),
            "CLI_TOKEN_FILE": str(folder / "cli-token"),
            "PYTHONUNBUFFERED": "1",
        }
        self.shop = self.new_shop()
        self.restock()
        # Everyone signs in once, up front (Argon2 is slow on purpose): the principal acts in
        # this process, the token in the commands and the reader process.
        self.principals: dict[str, Principal] = {}
        self.tokens: dict[str, str] = {}
        for username in (*SHOPPERS, *OPERATORS.values()):
            who, token = self.shop.sign_in(username, f"demo-{username}", channel="cli")
            self.principals[username], self.tokens[username] = who, token

    def who(self, username: str) -> Principal:
        """The signed-in principal of a demo account."""
        return self.principals[username]

    def operator_for(self, user: str) -> Principal:
        """The operator who decides `user`'s checkouts (their tenant's)."""
        return self.who(OPERATORS[self.who(user).tenant])

    def restock(self) -> None:
        """Every size the catalog makes gets plenty of pairs: hundreds of checkouts must not sell
        a size out (which would make "add the first one" a different, legitimate story)."""
        with Session(self.shop.engine) as session:
            session.execute(
                update(StockLevel).where(StockLevel.quantity > 0).values(quantity=10_000)
            )
            session.commit()

    def settings(self) -> Settings:
        return Settings(
            _env_file=None,
            AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME=self.url,
            database_url=f"sqlite:///{self.shop_db}",
            session_store="local",
            local_session_iam=False,
            model="offline",
            approval_lease_seconds=LEASE_SECONDS,
            session_read_timeout=2.0,
            secret_key_file=str(self.folder / "secret-key"),
            shop_key_file=str(self.folder / "shop-key"),
        )

    def new_shop(self) -> Shop:
        """A Shop as a new process would build it (its start runs the recovery)."""
        return Shop(settings=self.settings())

    # --- the session service --------------------------------------------------------------
    def start_service(self) -> None:
        self.service = subprocess.Popen(
            [sys.executable, "-m", "bedrock_sessions_local", "--host", "127.0.0.1",
             "--port", str(self.port), "--db", str(self.sessions_db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the session service did not start")

    def kill_service(self) -> None:
        if self.service is not None and self.service.poll() is None:
            self.service.send_signal(signal.SIGKILL)
            self.service.wait()

    def faults(self, **knobs: float) -> None:
        request = urllib.request.Request(
            f"{self.url}/_local/config",
            data=json.dumps({**NO_FAULTS, **knobs}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    # --- commands in their own processes --------------------------------------------------
    def command(self, *args: str, as_user: str) -> subprocess.Popen:
        """`shoe-assistant *args` as its own process, signed in as `as_user` (by token)."""
        return subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", *args],
            env={**self.env, "SHOE_ASSISTANT_TOKEN": self.tokens[as_user]},
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def read_from_another_process(self, user: str, session_id: str) -> list[str]:
        """The conversation's messages as a separate process reads them (a long-lived reader,
        started once: a new process per round would spend seconds on imports)."""
        with self.reader_lock:
            if self.reader is None or self.reader.poll() is not None:
                self.reader = subprocess.Popen(
                    [sys.executable, "-c", READER],
                    env=self.env,
                    cwd=self.folder,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            self.reader.stdin.write(json.dumps([self.tokens[user], session_id]) + "\n")
            self.reader.stdin.flush()
            answer = json.loads(self.reader.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"the other process could not read {session_id}: {answer}")
        return answer["messages"]

    # --- shopping -------------------------------------------------------------------------
    def checkout_waiting(self, shop: Shop, user: str) -> tuple[str, str]:
        """A conversation with one pair in the cart, waiting at checkout: (session, approval)."""
        who = self.who(user)
        session_id = shop.new_conversation(who)
        retrying(lambda: shop.send(who, session_id, PRODUCT_QUERY))
        retrying(lambda: shop.send(who, session_id, ADD))
        waiting = retrying(lambda: shop.send(who, session_id, "checkout"))
        return session_id, waiting.pending_approval.id

    def settle(self, shop: Shop, approval_id: str, timeout: float = 30) -> str:
        """Drive an approval to a final state as the shop would; return the final status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shop.recover_decisions()
            approval = shopdb.get_approval(shop.engine, approval_id)
            if approval.status in ("approved", "rejected", "failed"):
                return approval.status
            if approval.status == "pending":  # back in the queue: the operator decides again
                try:
                    shop.decide(self.operator_for(approval.user), approval_id, APPROVE)
                except Exception:
                    time.sleep(0.2)
            else:
                time.sleep(LEASE_SECONDS / 2)
        return shopdb.get_approval(shop.engine, approval_id).status

    def check_checkout(self, shop: Shop, user: str, session_id: str, approval_id: str) -> list[str]:
        """What is wrong with a settled checkout ([] when nothing)."""
        problems = []
        approval = shopdb.get_approval(shop.engine, approval_id)
        orders = [
            o for o in shopdb.orders_of_session(shop.engine, session_id) if o.status == "placed"
        ]
        if len(orders) > 1:
            problems.append(f"duplicate: {len(orders)} orders for {approval_id}")
        if approval.status == "approved" and [o.id for o in orders] != [approval.order_id]:
            problems.append(f"approved {approval_id} names {approval.order_id}, orders {orders}")
        if approval.status in ("rejected", "failed") and orders:
            problems.append(f"{approval.status} {approval_id} but order {orders[0].id} placed")
        if approval.status not in ("approved", "rejected", "failed"):
            problems.append(f"stuck: {approval_id} is {approval.status}")
        try:
            reply = retrying(lambda: shop.send(self.who(user), session_id, "what's in my cart?"))
            if reply.pending_approval is not None:
                problems.append(f"stuck: {session_id} still waits for the store")
        except TurnError as error:
            problems.append(f"the shopper cannot continue: {error}")
        return problems


def retrying(call: Callable, attempts: int = 4, patience: float = 15.0):
    """What a shopper does after a failed turn: send the same message again (up to 4 times).

    "Waiting for store approval" is not a failure: a decision is being applied (or finished by
    the recovery once its lease expires), so the shopper waits for the banner, up to `patience`.
    """
    deadline = time.monotonic() + patience
    attempt = 0
    while True:
        try:
            return call()
        except TurnError as error:
            waiting = "waiting for store approval" in str(error)
            if waiting and time.monotonic() < deadline:
                time.sleep(LEASE_SECONDS / 2)
                continue
            attempt += 1
            if attempt >= attempts:
                raise
            time.sleep(0.3)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
