"""The mutation service's rules: event types, grants, subscriptions, the fan-out."""
