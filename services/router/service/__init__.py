"""Router rules and catalogs: no grpc, no sqlalchemy (a test checks the imports)."""
