"""The TTP's rules: projects, coding, extractions (no grpc, no SQL)."""
