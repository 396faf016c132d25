"""The assistant: retrieval, grounded answers, escalation and handoff. Never imports Streamlit."""
