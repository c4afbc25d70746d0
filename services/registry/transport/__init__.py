"""gRPC transport of the registry service."""
