"""gRPC side of the mutation service: the sources, the router's directory, the servicers."""
