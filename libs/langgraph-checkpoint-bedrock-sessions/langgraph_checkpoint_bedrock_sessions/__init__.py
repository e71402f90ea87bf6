"""A LangGraph checkpointer on Amazon Bedrock Session Management, correct and fast.

Extends ``langgraph-checkpoint-aws``'s ``BedrockSessionSaver`` / ``AsyncBedrockSessionSaver``
and keeps their wire format: either saver reads what the other wrote (see the README).

What the package offers:

- ``BedrockSessionCheckpointer``: the sync checkpointer (``graph.invoke``, ``stream``);
- ``AsyncBedrockSessionCheckpointer``: the async one (``ainvoke``, ``astream``);
- ``make_checkpointer`` / ``make_session_client``: a checkpointer, or a boto3
  ``bedrock-agent-runtime`` client sized for its concurrent reads, in one call;
- ``ApiCallCounter``: counts a boto3 client's Bedrock session calls by operation.
- ``error_code``: the AWS error code of a botocore ``ClientError`` (None for other errors).

Example::

    import boto3
    from langgraph_checkpoint_bedrock_sessions import BedrockSessionCheckpointer

    client = boto3.client("bedrock-agent-runtime")
    graph = builder.compile(checkpointer=BedrockSessionCheckpointer(client=client))
    thread = {"configurable": {"thread_id": client.create_session()["sessionId"]}}
"""

from langgraph_checkpoint_bedrock_sessions.async_checkpointer import AsyncBedrockSessionCheckpointer
from langgraph_checkpoint_bedrock_sessions.call_counter import ApiCallCounter
from langgraph_checkpoint_bedrock_sessions.factory import make_checkpointer, make_session_client
from langgraph_checkpoint_bedrock_sessions.session_api import error_code
from langgraph_checkpoint_bedrock_sessions.sync_checkpointer import BedrockSessionCheckpointer

__all__ = [
    "ApiCallCounter",
    "AsyncBedrockSessionCheckpointer",
    "BedrockSessionCheckpointer",
    "error_code",
    "make_checkpointer",
    "make_session_client",
]
