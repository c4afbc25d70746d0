"""The TTP's gRPC side: its servicer and its extractions through the router."""
