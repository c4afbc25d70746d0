"""Business rules of the registry: no grpc, no sqlalchemy (a test checks the imports)."""
