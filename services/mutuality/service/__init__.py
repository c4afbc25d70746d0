"""Business rules of a mutuality."""
