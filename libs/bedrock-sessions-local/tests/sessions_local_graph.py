"""A small real LangGraph graph for the saver tests: a scripted agent, a tool loop, and a
checkout tool that pauses with ``interrupt()`` until resumed with ``Command(resume=...)``.

The agent node is scripted (no model): it calls ``search_shoes`` for any message and
``checkout`` when the message says so, then answers with the tool's result. It lives in its own
module so a second Python process can build the same graph over the same session.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import interrupt
from typing_extensions import TypedDict


class ShopState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@tool
def search_shoes(query: str) -> str:
    """Search the shoe catalog."""
    return f"3 results for {query}"


@tool
def checkout(total: float) -> str:
    """Place the order once a store operator approves it."""
    decision = interrupt({"question": "approve checkout?", "total": total})
    return f"checkout {decision}"


def agent(state: ShopState) -> dict[str, Any]:
    """Scripted agent: one tool call per shopper message, then a reply with the tool result."""
    last = state["messages"][-1]
    if isinstance(last, ToolMessage):
        return {"messages": [AIMessage(content=f"done: {last.content}")]}
    assert isinstance(last, HumanMessage)
    call_id = f"call-{len(state['messages'])}"
    if "checkout" in str(last.content):
        call = {"name": "checkout", "args": {"total": 99.5}, "id": call_id}
    else:
        call = {"name": "search_shoes", "args": {"query": str(last.content)}, "id": call_id}
    return {"messages": [AIMessage(content="", tool_calls=[call])]}


def build_graph(checkpointer: Any) -> Any:
    """Compile the shop graph with ``checkpointer``."""
    builder = StateGraph(ShopState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode([search_shoes, checkout]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer)
