"""`python -m dimona seed`: the synthetic employer register and mandates."""
