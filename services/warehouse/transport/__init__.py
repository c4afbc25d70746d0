"""The warehouse's gRPC side: its servicers and its client of the trusted third party."""
