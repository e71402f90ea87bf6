"""`BedrockSessionCheckpointer`: the upstream sync saver, made correct and fast."""

from __future__ import annotations

from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.saver import BedrockSessionSaver

from langgraph_checkpoint_bedrock_sessions.store_backed import StoreBackedSaver


class BedrockSessionCheckpointer(StoreBackedSaver, BedrockSessionSaver):
    """A ``BedrockSessionSaver`` that keeps its wire format and fixes its defects.

    Data written by either saver reads the same in the other. Differences:

    - ``put`` stores ``parent_checkpoint_id``: ``parent_config``, history trees and forks work;
    - ``put_writes`` stores cumulative steps and readers merge every writes step: the writes
      of parallel tasks are never lost;
    - ``delete_thread`` ends then deletes the session; ``copy_thread`` copies a session's
      checkpoints into another existing session (the thread id is a Bedrock session id, which
      only the service can create);
    - far fewer API calls (see ``CheckpointReader`` and ``CheckpointWriter``) and a lazy
      ``list``.

    Takes every argument of ``BedrockSessionSaver`` (``client``, ``endpoint_url``,
    ``region_name``...) plus the store options ``slim_checkpoints``,
    ``eager_writes_invocation``, ``max_workers`` and ``step_cache_size``.

    Example::

        import boto3
        from langgraph.graph import START, StateGraph

        builder = StateGraph(int)
        builder.add_node("add_one", lambda x: x + 1)
        builder.add_edge(START, "add_one")
        client = boto3.client("bedrock-agent-runtime")  # endpoint, region: the usual env vars
        graph = builder.compile(checkpointer=BedrockSessionCheckpointer(client=client))
        session_id = client.create_session()["sessionId"]  # the thread id is a session id
        graph.invoke(1, {"configurable": {"thread_id": session_id}})  # 2, stored in the session
    """
