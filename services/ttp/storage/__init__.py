"""The TTP's keys: files outside the warehouse (storage/keys.py); no database."""
