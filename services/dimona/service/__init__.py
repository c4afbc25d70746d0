"""DIMONA's rules: pure Python, no grpc, no SQL (they reach storage and the network through
the ports in `ports.py`)."""
