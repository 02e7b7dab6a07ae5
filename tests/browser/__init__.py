"""Browser tests: the real app served by uvicorn, driven by headless Chromium."""
