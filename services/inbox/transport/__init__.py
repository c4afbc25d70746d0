"""gRPC transport of an inbox."""
