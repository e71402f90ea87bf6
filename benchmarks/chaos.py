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
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import partial
from pathlib import Path

from tqdm import tqdm

from assistant import shopdb
from assistant.application import Shop, TurnError

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the lab beside this script
from chaos_lab import ADD, APPROVE, PRODUCT_QUERY, SHOPPERS, Lab, Tally, retrying

FAULT_KINDS = {
    "throttled (429)": {"throttle_rate": 0.2},
    "500 before the commit": {"internal_error_rate": 0.2},
    "500 after the commit": {"commit_error_rate": 0.2},
    "dropped after the commit": {"commit_drop_rate": 0.2},
    "slower than the timeout": {"slow_response_rate": 0.2, "slow_response_ms": 3000},
}
MIXED_10 = {
    "throttle_rate": 0.02,
    "internal_error_rate": 0.02,
    "commit_error_rate": 0.02,
    "commit_drop_rate": 0.02,
    "slow_response_rate": 0.02,
    "slow_response_ms": 3000,
}


# --- scenarios ---------------------------------------------------------------------------


def kill_the_approver(lab: Lab, rounds: int, rng: random.Random, bar: tqdm) -> Tally:
    tally = Tally("kill -9 `approvals approve`")
    shop = lab.shop
    started, window = _measure(lab)
    moments = [rng.uniform(started, window) for _ in range(rounds)]

    def one(moment: float) -> None:
        session_id, approval_id = lab.checkout_waiting(shop, "alice")
        process = lab.command("approvals", "approve", approval_id, as_user="olga")
        time.sleep(moment)
        killed = process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.communicate()
        status = lab.settle(lab.new_shop(), approval_id)
        problems = lab.check_checkout(shop, "alice", session_id, approval_id)
        problems += _consistent(lab, shop, "alice", session_id)
        _count(tally, problems, recovered=killed and status != "pending")
        bar.update()

    with ThreadPoolExecutor(max_workers=2) as pool:  # two rounds at a time: one per core
        list(pool.map(one, moments))
    return tally


def kill_the_service(lab: Lab, rounds: int, rng: random.Random, bar: tqdm) -> Tally:
    tally = Tally("kill -9 the session service")
    shop = lab.shop
    bob, oscar = lab.who("bob"), lab.operator_for("bob")
    for index in range(rounds):
        session_id, approval_id = lab.checkout_waiting(shop, "bob")
        during_turn = index % 2 == 1
        if during_turn:  # a decision first, then the service dies during the next turn's add
            lab.settle(shop, approval_id)
        work = threading.Thread(
            target=_quietly,
            args=(
                partial(shop.send, bob, session_id, ADD)
                if during_turn
                else partial(shop.decide, oscar, approval_id, APPROVE),
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
            messages = shop.messages(bob, session_id)
            asked = [m.text for m in messages if m.type == "human"]
            if asked[-1] != ADD or shop.context.snapshot(session_id).next:
                retrying(partial(shop.send, bob, session_id, ADD))
            cart = shop.current(bob, session_id).cart
            if sum(line["quantity"] for line in cart) != 1:
                pairs = sum(line["quantity"] for line in cart)
                problems.append(
                    f"duplicate: the add ran twice, cart {cart}"
                    if pairs > 1
                    else f"lost: the add never happened, cart {cart}"
                )
        problems += lab.check_checkout(shop, "bob", session_id, approval_id)
        problems += _consistent(lab, shop, "bob", session_id)
        _count(tally, problems, recovered=status != "pending")
        bar.update()
    return tally


def kill_the_chat(lab: Lab, rounds: int, rng: random.Random, bar: tqdm) -> Tally:
    tally = Tally("kill -9 `chat` during a turn")
    shop = lab.shop
    started, window = _measure(lab, chat=True)
    moments = [rng.uniform(started, window) for _ in range(rounds)]

    carol = lab.who("carol")

    def one(moment: float) -> None:
        session_id = shop.new_conversation(carol)
        retrying(lambda: shop.send(carol, session_id, PRODUCT_QUERY))
        message_id = str(uuid.uuid4())  # what a client keeps to send the same message again
        process = lab.command(
            "chat", "--session", session_id, "--message-id", message_id, ADD, as_user="carol"
        )
        time.sleep(moment)
        killed = process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.communicate()
        problems = []
        try:
            # The shopper sends the same message again, from a new process.
            result = retrying(
                lambda: lab.new_shop().send(carol, session_id, ADD, message_id=message_id)
            )
            pairs = sum(line["quantity"] for line in result.cart)
            if pairs != 1:
                problems.append(f"duplicate: {pairs} pairs after one add")
        except TurnError as error:
            problems.append(f"the shopper cannot continue: {error}")
        problems += _consistent(lab, shop, "carol", session_id)
        _count(tally, problems, recovered=killed)
        bar.update()

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, moments))
    return tally


def faults(lab: Lab, name: str, knobs: dict, shoppers: int, bar: tqdm, goal: int) -> Tally:
    """`shoppers` conversations of 4 turns and one decision each, with `knobs` faults on."""
    tally = Tally(f"faults: {name}")
    shop = lab.shop
    lab.faults(**knobs, fault_seed=len(name))

    def one(index: int) -> tuple[str, str, str | None, list[str]]:
        user = SHOPPERS[index % 3]
        who = lab.who(user)
        session_id = retrying(lambda: shop.new_conversation(who))
        expected: list[str] = []
        approval_id = None
        for text in (PRODUCT_QUERY, ADD, "checkout", "what's in my cart?"):
            if text.startswith("what") and approval_id is not None:
                tally.add(rounds=1)
                try:
                    shop.decide(lab.operator_for(user), approval_id, APPROVE)
                    tally.add(completed=1)
                except Exception:
                    tally.add(recovered=1)  # finished by the recovery (checked below)
            tally.add(turns=1)
            try:
                # Each message has an id the shopper's client keeps until it hears back.
                message_id = str(uuid.uuid4())
                result = shop.send(who, session_id, text, message_id=message_id)
            except TurnError as error:
                tally.add(failed_turns=1)
                if "Traceback" in str(error) or not str(error):
                    tally.note(f"unreadable failure: {error!r}")
                try:  # the shopper tries again: the same message carries on
                    result = retrying(
                        partial(shop.send, who, session_id, text, message_id=message_id)
                    )
                except TurnError as again:  # failed with a readable message: counted above
                    tally.note(f"gave up after retrying: {again}")
                    result = None
            if result is not None:
                if result.pending_approval is not None:
                    approval_id = result.pending_approval.id
                else:  # a stored reply ("waiting for approval" is computed, not stored)
                    expected.append(result.reply)
            bar.update()
        return user, session_id, approval_id, expected

    with ThreadPoolExecutor(max_workers=8) as pool:  # mostly waiting on back-offs: 8 at once
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
        kept = {m.text for m in shop.messages(lab.who(user), session_id)}
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
        user = SHOPPERS[index % 3]
        who = lab.who(user)
        session_id = retrying(lambda: shop.new_conversation(who))
        approval_id = None
        for text in script:
            if approval_id is not None:
                with suppress(Exception):
                    shop.decide(lab.operator_for(user), approval_id, APPROVE)
                if lab.settle(shop, approval_id) not in ("approved", "rejected", "failed"):
                    tally.add(stuck=1)
                approval_id = None
            tally.add(turns=1)
            try:
                result = retrying(
                    partial(shop.send, who, session_id, text, message_id=str(uuid.uuid4()))
                )
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


def _measure(lab: Lab, chat: bool = False) -> tuple[float, float]:
    """When an un-killed command starts its work (after its imports) and when it ends: kills
    land at random moments in between, where a crash can leave something half-done."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import assistant.application"], check=True, env=lab.env)
    work_starts = time.monotonic() - started
    shop = lab.shop
    if chat:
        session_id = shop.new_conversation(lab.who("carol"))
        started = time.monotonic()
        process = lab.command("chat", "--session", session_id, PRODUCT_QUERY, as_user="carol")
    else:
        _, approval_id = lab.checkout_waiting(shop, "alice")
        started = time.monotonic()
        process = lab.command("approvals", "approve", approval_id, as_user="olga")
    process.communicate(timeout=180)
    return work_starts, time.monotonic() - started


def _consistent(lab: Lab, shop: Shop, user: str, session_id: str) -> list[str]:
    here = [m.text for m in shop.messages(lab.who(user), session_id)]
    there = lab.read_from_another_process(user, session_id)
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
            if lab.reader is not None:
                lab.reader.kill()
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
