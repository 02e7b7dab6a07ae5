"""Matching of offers and requests: candidates, scoring and its explanation, economics and CO2e.
The substitution knowledge base and material compatibility live in knowledge.py and
compatibility.py, with their data files in data/ (see data/SOURCES.md)."""
