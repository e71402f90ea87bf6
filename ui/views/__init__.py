"""The pages, one per role: short scripts of layout run by `st.navigation` (see ui/app.py)."""
