"""Reference data shipped with the project (see data/SOURCES.md): List of Waste, R/D operations,
end-of-waste acts, départements and régions. Loaded into tables by the migrations."""
