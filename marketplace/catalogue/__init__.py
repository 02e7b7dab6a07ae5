"""The anonymized catalogue: listings, their generalised public view, search, pooled offers."""
