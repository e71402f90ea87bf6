"""Where the shopper writes: the chat box, the starter prompts, and what happens when a send fails.

As in the chat apps people know: the box shows how many characters are left and refuses more
than a message may hold (`MAX_MESSAGE_CHARS`, checked again by the Shop); a message that could
not be sent goes back into the box, and the reason is said in the conversation, on the
assistant's side, not under it. Starter prompts on an empty chat send a typical first request.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import MAX_MESSAGE_CHARS

INPUT_KEY = "shop-chat-input"
_RESTORE = "composer.restore"  # the text of a failed send, put back into the box on the next run
_FAILURE = "composer.failure"  # {"session_id", "error"}: shown at the end of the conversation
_STARTER = "composer.starter"  # a starter prompt clicked, sent on the next run

STARTER_PROMPTS = (
    "Trail shoes under $150 in size 8.5",
    "Running shoes under $120",
    "Waterproof hiking boots",
    "Something for the office",
)
ERROR_AVATAR = ":material/error:"


def composer(placeholder: str, *, disabled: bool) -> str | None:
    """The chat box pinned at the bottom of the page; returns the message sent in this run
    (typed, or a starter prompt clicked), else None."""
    restored = st.session_state.pop(_RESTORE, None)
    if restored:
        st.session_state[INPUT_KEY] = restored  # a trigger widget: fills the box, sends nothing
    typed = st.chat_input(
        placeholder, key=INPUT_KEY, max_chars=MAX_MESSAGE_CHARS, disabled=disabled
    )
    starter = st.session_state.pop(_STARTER, None)
    return typed or (starter if not disabled else None)


def starter_prompts() -> None:
    """Chips with typical first requests; a click sends the prompt like a typed message."""
    st.markdown("**Not sure where to start?** Pick one, or write your own below.")
    with st.container(horizontal=True, gap="small", key="starter-prompts"):
        for index, prompt in enumerate(STARTER_PROMPTS):
            st.button(
                prompt,
                key=f"starter-{index}",
                icon=":material/north_east:",
                on_click=_start_with,
                args=(prompt,),
            )
    st.caption(
        "Then add a pair from a product card, or say *add the second one in size 8*, and "
        "*checkout*: a store operator approves every order. Messages hold up to "
        f"{MAX_MESSAGE_CHARS:,} characters."
    )


def _start_with(prompt: str) -> None:
    st.session_state[_STARTER] = prompt


def report_failure(session_id: str | None, error: str, *, unsent: str | None = None) -> None:
    """Remember a failure for the conversation (shown by `failure_message` on the next run);
    `unsent` text goes back into the chat box."""
    st.session_state[_FAILURE] = {"session_id": session_id, "error": error}
    if unsent and unsent.strip():
        st.session_state[_RESTORE] = unsent


def clear_failure() -> None:
    """Forget the last failure: something new is being tried."""
    st.session_state.pop(_FAILURE, None)


def failure_message(session_id: str | None) -> None:
    """The last failure in this conversation, as an assistant-side message of the chat."""
    failure = st.session_state.get(_FAILURE)
    if not failure:
        return
    if failure["session_id"] not in (None, session_id):
        clear_failure()  # another conversation's: not this one's to show
        return
    with st.chat_message("assistant", avatar=ERROR_AVATAR), st.container(key="chat-failure"):
        st.error(failure["error"], icon=":material/error:")
