"""Privacy: identity vault, blind index, scrubbing, generalisation, audit chain."""
