"""Business rules of an institution inbox."""
