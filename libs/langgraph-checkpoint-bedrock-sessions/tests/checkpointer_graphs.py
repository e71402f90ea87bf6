"""Graphs shared by the checkpointer tests: a chat state and a typical agent turn with a tool.

``agent_turn_graph`` is scripted (no model): the agent asks ``search_shoes`` about each human
message, then answers with the tool's result, so one turn is agent → tools → agent and writes
5 checkpoints and 4 sets of pending writes.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode, tools_condition

__all__ = ["ChatState", "agent_turn_graph", "search_shoes", "thread"]


def thread(session_id: str) -> dict[str, Any]:
    """The LangGraph config of a thread: its id is the Bedrock session id."""
    return {"configurable": {"thread_id": session_id}}


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@tool
def search_shoes(query: str) -> str:
    """Search the shoe catalog."""
    return f"3 shoes match {query!r}"


def agent_turn_graph(saver: Any) -> Any:
    """A typical turn: agent asks a tool, the tool answers, the agent replies."""

    def agent(state: ChatState) -> dict[str, list[AIMessage]]:
        last = state["messages"][-1]
        if isinstance(last, HumanMessage):
            call_id = f"call-{len(state['messages'])}"
            call = {"name": "search_shoes", "args": {"query": last.content}, "id": call_id}
            return {"messages": [AIMessage("", tool_calls=[call])]}
        return {"messages": [AIMessage(f"Here you go: {last.content}")]}

    graph = StateGraph(ChatState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([search_shoes]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=saver)
