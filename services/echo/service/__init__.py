"""Business rules of the echo service."""
