"""gRPC transport of a mutuality."""
