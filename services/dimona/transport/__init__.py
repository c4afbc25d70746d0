"""DIMONA's gRPC side: servicers, proto <-> domain mapping, the router clients (identity,
directory) and the directory dispatcher's thread."""
