"""gRPC transport of the echo service."""
