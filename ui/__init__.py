"""The Streamlit web app: `streamlit run ui/app.py` (or `shoe-assistant up`).

Pages are short scripts of layout (`ui/views/`; not `pages/`, which Streamlit would
auto-discover before `st.navigation` runs); the pieces they share live in `ui/components/`;
`ui/backend.py` holds the one `assistant.application.Shop` of the process and `ui/identity.py` says
who is signed in. Pages only ever call `assistant.application` and render its views: never
boto3, SQL, LangChain messages or database rows.
"""
