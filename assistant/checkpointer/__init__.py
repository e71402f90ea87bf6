"""A Bedrock session checkpointer that is correct and fast.

Extends ``langgraph-checkpoint-aws``'s ``BedrockSessionSaver`` / ``AsyncBedrockSessionSaver``
and keeps their wire format (see ``docs/checkpointer.md``).
"""

from assistant.checkpointer.async_checkpointer import AsyncBedrockSessionCheckpointer
from assistant.checkpointer.call_counter import ApiCallCounter
from assistant.checkpointer.factory import make_checkpointer, make_session_client
from assistant.checkpointer.sync_checkpointer import BedrockSessionCheckpointer

__all__ = [
    "ApiCallCounter",
    "AsyncBedrockSessionCheckpointer",
    "BedrockSessionCheckpointer",
    "make_checkpointer",
    "make_session_client",
]
