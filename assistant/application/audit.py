"""Raw Bedrock session data for developers and auditors, decoded where it can be.

Walks sessions → invocations → steps with boto3's paginators, keeps each step's raw payload, and
decodes the checkpoint envelopes written by the saver (JSON with base64 values serialised by the
saver's own serializer) into readable JSON.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from assistant.application.views import jsonable


def session_audit(client, serde, session_id: str) -> dict:
    """Everything stored in one Bedrock session, raw and decoded, as JSON-ready data."""
    session = client.get_session(sessionIdentifier=session_id)
    session.pop("ResponseMetadata", None)
    tags = client.list_tags_for_resource(resourceArn=session["sessionArn"]).get("tags", {})
    invocations = []
    for page in client.get_paginator("list_invocations").paginate(sessionIdentifier=session_id):
        invocations.extend(page["invocationSummaries"])
    result_invocations = []
    for invocation in invocations:
        steps = []
        for page in client.get_paginator("list_invocation_steps").paginate(
            sessionIdentifier=session_id, invocationIdentifier=invocation["invocationId"]
        ):
            for summary in page["invocationStepSummaries"]:
                step = client.get_invocation_step(
                    sessionIdentifier=session_id,
                    invocationIdentifier=invocation["invocationId"],
                    invocationStepId=summary["invocationStepId"],
                )["invocationStep"]
                steps.append(_step(step, serde))
        result_invocations.append({**invocation, "steps": steps})
    return jsonable({"session": session, "tags": tags, "invocations": result_invocations})


def _step(step: dict, serde) -> dict:
    blocks = step["payload"].get("contentBlocks", [])
    raw = [block.get("text") for block in blocks if "text" in block]
    decoded = [_decode_block(text, serde) for text in raw]
    kind = decoded[0].get("step_type") if decoded and isinstance(decoded[0], dict) else None
    return {
        "invocationStepId": step["invocationStepId"],
        "invocationStepTime": step["invocationStepTime"],
        "kind": kind,
        "raw": raw,
        "decoded": decoded,
    }


def _decode_block(text: str, serde) -> Any:
    try:
        envelope = json.loads(text)
    except (TypeError, ValueError):
        return {"text": text}
    if not isinstance(envelope, dict):
        return envelope
    decoded = dict(envelope)
    for key in ("checkpoint", "channel_values", "version", "value"):
        pair = envelope.get(key)
        if isinstance(pair, list) and len(pair) == 2:
            try:
                decoded[key] = serde.loads_typed((pair[0], base64.b64decode(pair[1])))
            except Exception as error:  # a value we cannot decode is shown, not hidden
                decoded[key] = {"undecodable": str(error)}
    metadata = envelope.get("metadata")
    if isinstance(metadata, list) and len(metadata) == 2:
        decoded["metadata"] = json.loads(base64.b64decode(metadata[1]))
    return decoded
