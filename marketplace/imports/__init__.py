"""Territory import: one CSV or XLSX row per flow, all-or-nothing, with a per-row report."""
