"""Companies (identity sealed in the vault) and their sites."""
