"""The router's gRPC side: forwarding, and talking to providers (server reflection)."""
