"""The Streamlit app for customers, support staff and doc writers."""
