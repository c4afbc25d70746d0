"""The warehouse's rules: positions, tables, disclosure control, builds, reads, exports."""
