"""Chaos run: kill processes and inject the faults AWS really has; nothing may be lost or doubled.

    python benchmarks/chaos.py            # the full run (about 8 minutes on 2 cores)
    python benchmarks/chaos.py --quick    # a few rounds of each (the test suite runs this)

Everything is real: the local session service as its own process (killed with SIGKILL and
started again on the same storage), `shoe-assistant` commands as processes (killed with SIGKILL
in the middle of their work), the shop's application functions in this process, the offline
model, SQLite. Scenarios:

- approver: `shoe-assistant approvals approve` killed at a random moment;
- service: the session service killed at a random moment during a decision or a turn;
- chat: `shoe-assistant chat` killed at a random moment during a turn that adds to the cart;
- faults: 20 % of calls meet one kind of fault (throttled, 500 before, 500 after the commit,
  connection dropped after the commit, an answer slower than the client's timeout), over
  shoppers' turns and operators' decisions; and 10 % answered 500 after the commit;
- crowd: 20 shoppers at once, 5 turns each, with 10 % of calls faulty (all kinds mixed).

After each round the shop must hold: every approval approved with its order, rejected, failed
with a reason, or back in the queue (then decided again); at most one order per checkout; one
pair in the cart per "add"; the shopper can continue; a new process reads the same conversation.
The table counts rounds, completed (no recovery needed), recovered, stuck and duplicates; the
exit status is 1 when a figure misses its goal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tqdm import tqdm

from assistant import shopdb
from assistant.application import Shop, TurnError
from assistant.settings import Settings

PRODUCT_QUERY = "trail shoes in size 9"
ADD = "add the first one in size 9"
LEASE_SECONDS = 1.0
FAULT_KINDS = {
    "throttled (429)": {"throttle_rate": 0.2},
    "500 before the commit": {"internal_error_rate": 0.2},
    "500 after the commit": {"commit_error_rate": 0.2},
    "dropped after the commit": {"commit_drop_rate": 0.2},
    "slower than the timeout": {"slow_response_rate": 0.2, "slow_response_ms": 1500},
}
MIXED_10 = {
    "throttle_rate": 0.02,
    "internal_error_rate": 0.02,
    "commit_error_rate": 0.02,
    "commit_drop_rate": 0.02,
    "slow_response_rate": 0.02,
    "slow_response_ms": 1500,
}
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
        self.env = {
            **os.environ,
            "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": self.url,
            "DATABASE_URL": f"sqlite:///{self.shop_db}",
            "SESSION_STORE": "local",
            "MODEL": "offline",
            "APPROVAL_LEASE_SECONDS": str(LEASE_SECONDS),
            "SESSION_READ_TIMEOUT": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.shop = self.new_shop()

    def settings(self) -> Settings:
        return Settings(
            _env_file=None,
            AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME=self.url,
            database_url=f"sqlite:///{self.shop_db}",
            session_store="local",
            model="offline",
            approval_lease_seconds=LEASE_SECONDS,
            session_read_timeout=1.0,
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
    def command(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", *args],
            env=self.env,
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def show_from_new_process(self, user: str, session_id: str) -> dict:
        process = self.command("sessions", "show", session_id, "--user", user, "--json")
        out, err = process.communicate(timeout=120)
        if process.returncode != 0:
            raise RuntimeError(f"sessions show failed: {err.strip()}")
        return json.loads(out)

    # --- shopping -------------------------------------------------------------------------
    def checkout_waiting(self, shop: Shop, user: str) -> tuple[str, str]:
        """A conversation with one pair in the cart, waiting at checkout: (session, approval)."""
        session_id = shop.new_conversation(user)
        retrying(lambda: shop.send(user, session_id, PRODUCT_QUERY))
        retrying(lambda: shop.send(user, session_id, ADD))
        waiting = retrying(lambda: shop.send(user, session_id, "checkout"))
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
                    shop.decide(approval_id, {"action": "approve", "operator": "olga"})
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
            reply = retrying(lambda: shop.send(user, session_id, "what's in my cart?"))
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


# --- scenarios ---------------------------------------------------------------------------


def kill_the_approver(lab: Lab, rounds: int, rng: random.Random, bar: tqdm) -> Tally:
    tally = Tally("kill -9 `approvals approve`")
    shop = lab.shop
    window = _measure(lab)
    for _ in range(rounds):
        session_id, approval_id = lab.checkout_waiting(shop, "alice")
        process = lab.command("approvals", "approve", approval_id, "--operator", "olga")
        time.sleep(rng.uniform(0, window))
        killed = process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.communicate()
        status = lab.settle(lab.new_shop(), approval_id)
        problems = lab.check_checkout(shop, "alice", session_id, approval_id)
        problems += _consistent(lab, shop, "alice", session_id)
        _count(tally, problems, recovered=killed and status != "pending")
        bar.update()
    return tally


def kill_the_service(lab: Lab, rounds: int, rng: random.Random, bar: tqdm) -> Tally:
    tally = Tally("kill -9 the session service")
    shop = lab.shop
    for index in range(rounds):
        session_id, approval_id = lab.checkout_waiting(shop, "bob")
        during_turn = index % 2 == 1
        if during_turn:  # a decision first, then the service dies during the next turn's add
            lab.settle(shop, approval_id)
        decision = {"action": "approve", "operator": "olga"}
        work = threading.Thread(
            target=_quietly,
            args=(
                partial(shop.send, "bob", session_id, ADD)
                if during_turn
                else partial(shop.decide, approval_id, decision)
            ),
        )
        work.start()
        time.sleep(rng.uniform(0, 0.6))
        lab.kill_service()
        work.join()
        lab.start_service()
        status = lab.settle(lab.new_shop(), approval_id)
        problems = []
        if during_turn:
            # The shopper sends the add again unless it visibly completed before the kill.
            messages = shop.messages(session_id)
            asked = [m.text for m in messages if m.type == "human"]
            if asked[-1] != ADD or shop.context.snapshot(session_id).next:
                retrying(partial(shop.send, "bob", session_id, ADD))
            cart = shop.current(session_id).cart
            if sum(line["quantity"] for line in cart) != 1:
                problems.append(f"duplicate: the add ran twice, cart {cart}")
        problems += lab.check_checkout(shop, "bob", session_id, approval_id)
        problems += _consistent(lab, shop, "bob", session_id)
        _count(tally, problems, recovered=status != "pending")
        bar.update()
    return tally


def kill_the_chat(lab: Lab, rounds: int, rng: random.Random, bar: tqdm) -> Tally:
    tally = Tally("kill -9 `chat` during a turn")
    shop = lab.shop
    window = _measure(lab, chat=True)
    for _ in range(rounds):
        session_id = shop.new_conversation("carol")
        retrying(lambda sid=session_id: shop.send("carol", sid, PRODUCT_QUERY))
        process = lab.command("chat", "--user", "carol", "--session", session_id, ADD)
        time.sleep(rng.uniform(0, window))
        killed = process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.communicate()
        problems = []
        try:
            # The shopper sends the same message again, from a new process.
            result = retrying(lambda sid=session_id: lab.new_shop().send("carol", sid, ADD))
            pairs = sum(line["quantity"] for line in result.cart)
            if pairs != 1:
                problems.append(f"duplicate: {pairs} pairs after one add")
        except TurnError as error:
            problems.append(f"the shopper cannot continue: {error}")
        problems += _consistent(lab, shop, "carol", session_id)
        _count(tally, problems, recovered=killed)
        bar.update()
    return tally


def faults(lab: Lab, name: str, knobs: dict, shoppers: int, bar: tqdm, goal: int) -> Tally:
    """`shoppers` conversations of 4 turns and one decision each, with `knobs` faults on."""
    tally = Tally(f"faults: {name}")
    shop = lab.shop
    lab.faults(**knobs, fault_seed=len(name))

    def one(index: int) -> tuple[str, str, str | None, list[str]]:
        user = ("alice", "bob", "carol")[index % 3]
        session_id = retrying(lambda: shop.new_conversation(user))
        expected: list[str] = []
        approval_id = None
        for text in (PRODUCT_QUERY, ADD, "checkout", "what's in my cart?"):
            if text.startswith("what") and approval_id is not None:
                tally.add(rounds=1)
                try:
                    shop.decide(approval_id, {"action": "approve", "operator": "olga"})
                    tally.add(completed=1)
                except Exception:
                    tally.add(recovered=1)  # finished by the recovery (checked below)
            tally.add(turns=1)
            try:
                result = shop.send(user, session_id, text)
            except TurnError as error:
                tally.add(failed_turns=1)
                if "Traceback" in str(error) or not str(error):
                    tally.note(f"unreadable failure: {error!r}")
                try:  # the shopper tries again: the same message carries on
                    result = retrying(lambda t=text: shop.send(user, session_id, t))
                except TurnError as again:
                    tally.note(f"lost turn: {again}")
                    tally.add(stuck=1)
                    result = None
            if result is not None:
                if result.pending_approval is not None:
                    approval_id = result.pending_approval.id
                else:  # a stored reply ("waiting for approval" is computed, not stored)
                    expected.append(result.reply)
            bar.update()
        return user, session_id, approval_id, expected

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(one, range(shoppers)))
    lab.faults()
    for user, session_id, approval_id, expected in outcomes:
        if approval_id:
            lab.settle(shop, approval_id)
            problems = lab.check_checkout(shop, user, session_id, approval_id)
            if any(p.startswith("duplicate") for p in problems):
                tally.add(duplicates=1)
            if problems:
                tally.add(stuck=1)
            for problem in problems:
                tally.note(problem)
        kept = {m.text for m in shop.messages(session_id)}
        lost = [reply for reply in expected if reply and reply not in kept]
        if lost:
            tally.note(f"lost checkpoints: {session_id} misses {lost[:1]}")
            tally.add(stuck=1)
    tally.notes.insert(0, f"goal: at least {goal} of {tally.turns} turns without a failure")
    return tally


def crowd(lab: Lab, shoppers: int, turns: int, bar: tqdm) -> Tally:
    """`shoppers` at once, `turns` each (search, add, checkout, decision, question), 10 % faults."""
    tally = Tally(f"crowd: {shoppers} shoppers x {turns} turns, 10 % faults")
    shop = lab.shop
    lab.faults(**MIXED_10, fault_seed=7)
    script = [PRODUCT_QUERY, ADD, "checkout", "what's in my cart?", "running shoes"][:turns]

    def one(index: int) -> None:
        user = ("alice", "bob", "carol")[index % 3]
        session_id = retrying(lambda: shop.new_conversation(user))
        approval_id = None
        for text in script:
            if approval_id is not None:
                with suppress(Exception):
                    shop.decide(approval_id, {"action": "approve", "operator": "olga"})
                if lab.settle(shop, approval_id) not in ("approved", "rejected", "failed"):
                    tally.add(stuck=1)
                approval_id = None
            tally.add(turns=1)
            try:
                result = retrying(lambda t=text: shop.send(user, session_id, t))
                tally.add(completed=1)
                if result.pending_approval:
                    approval_id = result.pending_approval.id
            except TurnError as error:
                tally.add(failed_turns=1)
                tally.note(f"lost turn: {error}")
            bar.update()
        orders = shopdb.orders_of_session(shop.engine, session_id)
        if len(orders) > 1:
            tally.add(duplicates=1)
        tally.add(rounds=1)

    with ThreadPoolExecutor(max_workers=shoppers) as pool:
        list(pool.map(one, range(shoppers)))
    lab.faults()
    return tally


# --- helpers -----------------------------------------------------------------------------


def _measure(lab: Lab, chat: bool = False) -> float:
    """How long one un-killed command takes here: kills land anywhere inside it."""
    shop = lab.shop
    started = time.monotonic()
    if chat:
        session_id = shop.new_conversation("carol")
        process = lab.command("chat", "--user", "carol", "--session", session_id, PRODUCT_QUERY)
    else:
        _, approval_id = lab.checkout_waiting(shop, "alice")
        started = time.monotonic()
        process = lab.command("approvals", "approve", approval_id)
    process.communicate(timeout=180)
    return time.monotonic() - started


def _consistent(lab: Lab, shop: Shop, user: str, session_id: str) -> list[str]:
    shown = lab.show_from_new_process(user, session_id)
    here = [m.text for m in shop.messages(session_id)]
    there = [m["text"] for m in shown["messages"]]
    return [] if here == there else [f"inconsistent read of {session_id}"]


def _count(tally: Tally, problems: list[str], *, recovered: bool) -> None:
    tally.add(rounds=1)
    if any(p.startswith("duplicate") for p in problems):
        tally.add(duplicates=1)
    if problems:
        tally.add(stuck=1)
        for problem in problems:
            tally.note(problem)
    elif recovered:
        tally.add(recovered=1)
    else:
        tally.add(completed=1)


def _quietly(call: Callable) -> None:
    with suppress(Exception):
        call()


def table(tallies: list[Tally]) -> str:
    lines = [
        "| scenario | rounds | completed | recovered | stuck | duplicates | turns | failed turns |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in tallies:
        lines.append(
            f"| {t.scenario} | {t.rounds} | {t.completed} | {t.recovered} | {t.stuck} "
            f"| {t.duplicates} | {t.turns or '–'} | {t.failed_turns if t.turns else '–'} |"
        )
    return "\n".join(lines)


def run(rounds: int, shoppers: int, crowd_size: int, seed: int) -> tuple[list[Tally], bool]:
    """Every scenario; returns the tallies and whether every goal was met."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="chaos-") as folder:
        lab = Lab(Path(folder))
        lab.start_service()
        try:
            lab.shop = lab.new_shop()
            total = 3 * rounds + len(FAULT_KINDS) * shoppers * 4 + shoppers * 4 + crowd_size * 5
            tallies: list[Tally] = []
            with tqdm(total=total, desc="chaos", unit="step", file=sys.stderr) as bar:
                tallies.append(kill_the_approver(lab, rounds, rng, bar))
                tallies.append(kill_the_service(lab, rounds, rng, bar))
                lab.shop = lab.new_shop()
                tallies.append(kill_the_chat(lab, rounds, rng, bar))
                goal = round(shoppers * 4 * 0.95)
                fault_runs = [
                    faults(lab, name, knobs, shoppers, bar, goal)
                    for name, knobs in FAULT_KINDS.items()
                ]
                tallies += fault_runs
                commit_10 = faults(
                    lab, "500 after the commit, 10 %", {"commit_error_rate": 0.1}, shoppers, bar, 0
                )
                tallies.append(commit_10)
                tallies.append(crowd(lab, crowd_size, 5, bar))
        finally:
            lab.kill_service()
    ok = all(t.stuck == 0 and t.duplicates == 0 for t in tallies)
    ok &= all(t.turns - t.failed_turns >= round(t.turns * 0.95) for t in fault_runs)
    ok &= commit_10.failed_turns == 0
    ok &= tallies[-1].failed_turns == 0
    return tallies, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few rounds of each")
    parser.add_argument("--rounds", type=int, help="kill rounds per scenario (default 20)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 20)
    shoppers, crowd_size = (2, 4) if args.quick else (25, 20)
    started = time.monotonic()
    tallies, ok = run(rounds, shoppers, crowd_size, args.seed)
    print(table(tallies))
    for tally in tallies:
        for note in tally.notes:
            print(f"  {tally.scenario}: {note}")
    print(f"{'all goals met' if ok else 'GOALS MISSED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
