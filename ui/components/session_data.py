"""Raw Bedrock session data on screen: session, tags, invocations and steps (raw and decoded)."""

from __future__ import annotations

import streamlit as st


def session_summary(audit: dict) -> None:
    """The session's status, times and tags."""
    session = audit.get("session", {})
    with st.container(border=True, key="audit-session-summary"):
        left, middle, right = st.columns(3)
        left.metric("Status", session.get("sessionStatus", "?"))
        middle.metric("Invocations", len(audit.get("invocations", [])))
        right.metric("Steps", sum(len(i.get("steps", [])) for i in audit.get("invocations", [])))
        st.caption(
            f"ARN `{session.get('sessionArn', '')}`  \n"
            f"Created {session.get('createdAt', '?')} · "
            f"last updated {session.get('lastUpdatedAt', '?')}"
        )
        with st.container(horizontal=True, gap="small"):
            for key, value in (audit.get("tags") or {}).items():
                st.badge(f"{key}: {value}", icon=":material/sell:", color="gray")
        if session.get("sessionMetadata"):
            st.caption("Session metadata")
            st.json(session["sessionMetadata"], expanded=True)


def invocations_table(audit: dict) -> None:
    """One row per invocation: id, when, how many steps, its summary."""
    st.subheader("Invocations", anchor=False)
    st.dataframe(
        [
            {
                "Invocation": invocation.get("invocationId"),
                "Created": invocation.get("createdAt"),
                "Steps": len(invocation.get("steps", [])),
                "Kinds": ", ".join(
                    sorted({str(step.get("kind")) for step in invocation.get("steps", [])})
                ),
            }
            for invocation in audit.get("invocations", [])
        ],
        hide_index=True,
        width="stretch",
    )


def steps_view(audit: dict) -> None:
    """Every step as a table, and one step's raw payload beside its decoded form."""
    steps = [
        (invocation.get("invocationId"), step)
        for invocation in audit.get("invocations", [])
        for step in invocation.get("steps", [])
    ]
    st.subheader("Steps", anchor=False)
    if not steps:
        st.caption("No steps stored yet.")
        return
    st.dataframe(
        [
            {
                "Step": step.get("invocationStepId"),
                "Invocation": invocation_id,
                "Time": step.get("invocationStepTime"),
                "Kind": step.get("kind"),
                "Payload bytes": sum(len(text or "") for text in step.get("raw", [])),
            }
            for invocation_id, step in steps
        ],
        hide_index=True,
        width="stretch",
        height=260,
    )
    index = st.selectbox(
        "Show step",
        options=range(len(steps)),
        format_func=lambda i: f"{steps[i][1].get('kind')} · {steps[i][1].get('invocationStepId')}",
        key="audit-step",
    )
    raw_column, decoded_column = st.columns(2)
    with raw_column, st.container(key="audit-step-raw"):
        st.markdown("**Raw payload** (as stored)")
        for text in steps[index][1].get("raw", []):
            st.code(text or "", language="json", wrap_lines=True, height=360)
    with decoded_column, st.container(key="audit-step-decoded"):
        st.markdown("**Decoded** (the saver's serializer)")
        st.json(steps[index][1].get("decoded", []), expanded=2)
