"""Territory statistics: the protected figures of what the territory exchanges, released once
per closed period and shown to the public from that release only."""
