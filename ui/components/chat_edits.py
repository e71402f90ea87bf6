"""Edit an earlier message, regenerate a reply, and ‹1/2› between versions, right in the chat.

Underneath, an edit is a fork of the conversation at the checkpoint where that message was the
latest (`Shop.fork`), a regeneration a replay from the same checkpoint (`Shop.replay`), and the
switcher makes another branch current again (`Shop.switch_branch`); which branches are versions
of which message comes from `Shop.chat_versions`. Nothing is lost: every version stays in the
session, and the History page shows the whole tree. An edit or a regeneration that would send a
checkout to the store again asks first (`ConfirmationNeeded`), in place, with what would happen.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import (
    MAX_MESSAGE_CHARS,
    ConfirmationNeeded,
    TurnVersions,
    Versions,
)
from ui.components.composer import clear_failure, report_failure
from ui.components.controls import ShopperControls, click
from ui.errors import EXPECTED, log, readable

_EDITING = "chat.editing"  # (session_id, turn index) of the message being edited
_ASKING = "chat.asking"  # (session_id, "edit" | "regenerate", turn index, what would happen)


def is_editing(controls: ShopperControls, index: int) -> bool:
    """True while the shopper edits the message of turn `index`."""
    return st.session_state.get(_EDITING) == (controls.session_id, index)


def shopper_tools(controls: ShopperControls, index: int, versions: TurnVersions) -> None:
    """Under a shopper message: ‹1/2› between its versions, and Edit (while it may change)."""
    editable = controls.writable and versions.edit_from is not None
    if versions.message is None and not editable:
        return
    with st.container(
        horizontal=True, gap="small", vertical_alignment="center", key=f"message-tools-{index}"
    ):
        if versions.message is not None:
            switcher(controls, versions.message, key=f"message-{index}", what="message")
        if editable:
            st.button(
                "Edit",
                key=f"edit-{index}",
                icon=":material/edit:",
                type="tertiary",
                help="Change this message and get a new answer; this version stays one click "
                "away (‹ ›).",
                on_click=_start_editing,
                args=(controls.session_id, index),
            )


def reply_tools(
    controls: ShopperControls, index: int, versions: TurnVersions, *, latest: bool
) -> None:
    """Under a reply: ‹1/2› between its versions, and Regenerate on the latest one."""
    offer = latest and controls.writable and versions.edit_from is not None
    if versions.reply is None and not offer:
        return
    with st.container(
        horizontal=True, gap="small", vertical_alignment="center", key=f"reply-tools-{index}"
    ):
        if versions.reply is not None:
            switcher(controls, versions.reply, key=f"reply-{index}", what="reply")
        regenerate = offer and st.button(
            "Regenerate",
            key=f"regenerate-{index}",
            icon=":material/refresh:",
            type="tertiary",
            help="Answer this message again; this answer stays one click away (‹ ›).",
        )
    confirmed = offer and confirmation(controls, "regenerate", index, "Regenerate anyway")
    if regenerate or confirmed:
        attempt(
            controls,
            ("regenerate", index),
            "regenerating the reply",
            "Answering again…",
            lambda: controls.shop.replay(
                controls.who, controls.session_id, versions.edit_from, confirmed=confirmed
            ),
        )


def switcher(controls: ShopperControls, versions: Versions, *, key: str, what: str) -> None:
    """‹ 2/3 ›: move to the previous or next version (the newest branch holding it)."""
    with st.container(
        horizontal=True,
        gap=None,
        vertical_alignment="center",
        width="content",
        key=f"versions-{key}",
    ):
        _step(controls, versions, -1, key=f"{key}-previous", help=f"Previous {what}")
        st.markdown(f"{versions.current + 1}/{versions.count}", width="content")
        _step(controls, versions, 1, key=f"{key}-next", help=f"Next {what}")


def _step(controls: ShopperControls, versions: Versions, step: int, *, key: str, help: str) -> None:
    target = versions.current + step
    inside = 0 <= target < versions.count
    st.button(
        "‹" if step < 0 else "›",
        key=key,
        type="tertiary",
        help=help,
        disabled=not (controls.writable and inside),
        on_click=_switch,
        args=(controls, versions.branches[target] if inside else ""),
    )


def edit_form(controls: ShopperControls, index: int, text: str, versions: TurnVersions) -> None:
    """The message as an editable box with Send and Cancel, in place of the message."""
    box = f"edit-text-{index}"
    edited = st.text_area(
        "Edit your message",
        value=text,
        key=box,
        max_chars=MAX_MESSAGE_CHARS,
        label_visibility="collapsed",
    )
    with st.container(horizontal=True, gap="small", key=f"edit-actions-{index}"):
        send = st.button("Send", key=f"edit-send-{index}", type="primary", icon=":material/send:")
        st.button("Cancel", key=f"edit-cancel-{index}", on_click=stop_editing)
    st.caption("Sending starts a new version from here; the one you see now stays (‹ ›).")
    confirmed = confirmation(controls, "edit", index, "Send anyway")
    if not (send or confirmed):
        return
    if (edited or "").strip() == text.strip():  # nothing changed: nothing to send
        stop_editing()
        st.rerun()
    attempt(
        controls,
        ("edit", index),
        "sending your edit",
        "Answering your edited message…",
        lambda: controls.shop.fork(
            controls.who,
            controls.session_id,
            versions.edit_from,
            message=edited or "",
            confirmed=confirmed,
        ),
    )


def confirmation(controls: ShopperControls, kind: str, index: int, label: str) -> bool:
    """When an edit or regeneration here asked first: what it would do, and `label` to go
    ahead anyway; True in the run that button was clicked."""
    asked = st.session_state.get(_ASKING)
    if not asked or asked[:3] != (controls.session_id, kind, index):
        return False
    with st.container(key=f"confirm-{kind}-{index}"):
        st.warning(asked[3], icon=":material/shopping_cart_checkout:")
        with st.container(horizontal=True, gap="small"):
            go = st.button(label, key=f"confirm-{kind}-{index}-yes", type="primary")
            st.button("Cancel", key=f"confirm-{kind}-{index}-no", on_click=_forget_asking)
    return go


def attempt(controls: ShopperControls, what: tuple, doing: str, spinner: str, call) -> None:
    """Run an edit or a regeneration and rerun the page on its result. If it would send a
    checkout to the store again, the reason is kept to ask first; any other failure is said
    in the conversation (an edit keeps its text in the box)."""
    clear_failure()
    _forget_asking()
    try:
        with st.spinner(spinner):
            call()
    except ConfirmationNeeded as needed:
        st.session_state[_ASKING] = (controls.session_id, *what, str(needed))
    except Exception as error:  # the page must survive anything the backend raises
        if not isinstance(error, EXPECTED):
            log.exception("UI call failed while %s", doing)
        report_failure(controls.session_id, readable(error, doing))
    else:
        stop_editing()
    st.rerun()


def _forget_asking() -> None:
    st.session_state.pop(_ASKING, None)


def _start_editing(session_id: str, index: int) -> None:
    st.session_state.pop(f"edit-text-{index}", None)  # start from the message, not an old edit
    st.session_state[_EDITING] = (session_id, index)


def stop_editing() -> None:
    """Close the edit box, if one is open (a new message, another version)."""
    st.session_state.pop(_EDITING, None)
    _forget_asking()


def _switch(controls: ShopperControls, checkpoint_id: str) -> None:
    stop_editing()
    click(controls, "switching versions", controls.shop.switch_branch, checkpoint_id)
