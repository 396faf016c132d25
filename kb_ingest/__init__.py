"""Ingestion: load help-centre files, chunk them, keep the Chroma index in step with the corpus."""
