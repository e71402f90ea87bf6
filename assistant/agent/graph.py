"""The shopping agent: a LangGraph tool loop with an approval-gated checkout.

    START → agent ⇄ tools → … → END

`agent` asks the chat model what to do next (reply, or call tools), except for a click in the
shop, whose exact cart tool call it makes itself (`actions.py`); `tools` runs the requested
tools, which read the catalog and update the cart in the state; `checkout` pauses the graph until
a store operator decides. Every step is checkpointed, which is what history, replay and fork use.
"""

from __future__ import annotations

import json

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import Command

from assistant.agent.actions import planned_step
from assistant.agent.checkout import checkout
from assistant.agent.state import ShopState
from assistant.agent.tools import SHOP_TOOLS, engine_from
from assistant.shopdb import get_user

ALL_TOOLS = [*SHOP_TOOLS, checkout]


class ModelUnavailable(Exception):
    """The chat model could not answer; the turn stops at the last saved checkpoint."""


INSTRUCTIONS = """You are the shopping assistant of an online shoe store.
Help the shopper find shoes with the search tool, show details, and manage the cart with the cart
tools. Use tool results only; never invent products, prices or stock. When the shopper refers to
"the second one" or "it", use the product ids from the latest results. Only call checkout when the
shopper asks to buy; a store operator must approve every order, so say the order is waiting for
approval and never claim an order is placed before the checkout result says so.
Keep replies short."""


def system_message(state: ShopState, config: RunnableConfig) -> SystemMessage:
    """Instructions plus the shopper's profile (size, gender, favourite category)."""
    profile: dict = {"user": state.get("user", "")}
    user = get_user(engine_from(config), state.get("user", "")) if state.get("user") else None
    if user is not None:
        profile.update(
            name=user.display_name,
            shoe_size=user.shoe_size,
            gender=user.gender,
            preferred_category=user.preferred_category,
        )
    return SystemMessage(f"{INSTRUCTIONS}\n\nShopper profile: {json.dumps(profile)}")


def build_graph(
    model: BaseChatModel, checkpointer: BaseCheckpointSaver | None = None
) -> CompiledStateGraph:
    """Compile the shopping agent with `model` and persist it through `checkpointer`."""
    model_with_tools = model.bind_tools(ALL_TOOLS)

    def agent(state: ShopState, config: RunnableConfig) -> dict:
        clicked = planned_step(state.get("messages", []))
        if clicked is not None:  # a click in the shop (actions.py): its exact call, no model
            return {"messages": [clicked]}
        history = close_dangling_tool_calls(state.get("messages", []))
        messages = [system_message(state, config), *history]
        try:
            reply = model_with_tools.invoke(messages, config)
        except Exception as error:  # credentials, throttling, network: the model's, not ours
            raise ModelUnavailable(f"{type(error).__name__}: {error}") from error
        return {"messages": [_one_checkout_at_a_time(reply)]}

    tool_node = ToolNode(ALL_TOOLS, handle_tool_errors=_tool_error_message)

    def tools(state: ShopState, config: RunnableConfig) -> dict:
        return run_tools_in_order(tool_node, state, config)

    graph = StateGraph(ShopState)
    graph.add_node("agent", agent)
    graph.add_node("tools", tools)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition, {"tools": "tools", END: END})
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=checkpointer)


def run_tools_in_order(tool_node: ToolNode, state: ShopState, config: RunnableConfig) -> dict:
    """Run the tool calls of the last model reply one after another.

    ToolNode runs calls in parallel on the same state, so two cart edits in one reply ("add the
    9.5 and the 10") would each start from the same cart and one would be lost. Here each call
    sees the cart and the last results left by the call before it.
    """
    reply = state["messages"][-1]
    earlier = state["messages"][:-1]
    view: dict = dict(state)
    messages: list = []
    for call in reply.tool_calls:
        single = reply.model_copy(update={"tool_calls": [call]})
        outputs = tool_node.invoke({**view, "messages": [*earlier, single]}, config)
        for output in outputs if isinstance(outputs, list) else [outputs]:
            update = output.update if isinstance(output, Command) else output
            messages.extend(update.get("messages", []))
            view.update({key: value for key, value in update.items() if key != "messages"})
    changed = {key: view[key] for key in ("cart", "last_seen") if key in view}
    return {"messages": messages, **changed}


INTERRUPTED_TOOL_RESULT = json.dumps(
    {
        "ok": False,
        "error": "This tool call was interrupted before it finished; nothing it would "
        "have done happened. Call it again if it is still needed.",
    }
)


def close_dangling_tool_calls(messages: list) -> list:
    """The history with every tool call answered, as chat APIs require.

    A turn killed between the model's tool calls and their results (a crash, a lost
    connection) leaves an assistant message whose calls have no result; Claude's Converse API
    rejects such a history. Each missing result is put right after its call, saying the call was
    interrupted and did nothing (the tools' effects are saved with their result, so a call
    without a result has none). The state itself is not changed.
    """
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    closed: list = []
    for message in messages:
        closed.append(message)
        for call in getattr(message, "tool_calls", None) or []:
            if call["id"] not in answered:
                closed.append(
                    ToolMessage(INTERRUPTED_TOOL_RESULT, tool_call_id=call["id"], name=call["name"])
                )
    # Results must follow their calls: move the ones that exist right after their call too.
    return _results_after_calls(closed)


def _results_after_calls(messages: list) -> list:
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    placed: set[str] = set()
    ordered: list = []
    for message in messages:
        if isinstance(message, ToolMessage):
            if message.tool_call_id in placed:
                continue
            # An orphan result (no call before it) stays where it is.
            ordered.append(message)
            placed.add(message.tool_call_id)
            continue
        ordered.append(message)
        for call in getattr(message, "tool_calls", None) or []:
            result = results.get(call["id"])
            if result is not None and call["id"] not in placed:
                ordered.append(result)
                placed.add(call["id"])
    return ordered


def _one_checkout_at_a_time(reply: AIMessage) -> AIMessage:
    """Keep at most one checkout call per model turn, so one approval covers one order."""
    calls = getattr(reply, "tool_calls", None) or []
    checkouts = [call for call in calls if call["name"] == "checkout"]
    if len(checkouts) <= 1:
        return reply
    first = checkouts[0]["id"]
    kept = [call for call in calls if call["name"] != "checkout" or call["id"] == first]
    return reply.model_copy(update={"tool_calls": kept})


def _tool_error_message(error: Exception) -> str:
    """A tool failure becomes a message the model can act on, never a failed turn."""
    return json.dumps({"ok": False, "error": f"The tool failed: {error}. Try different arguments."})
