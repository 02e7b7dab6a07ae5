"""The contract lifecycle: drafting from a revealed introduction, versions, regulatory status,
signatures, deliveries and their registers."""
