"""DIMONA, the immediate declaration of employment (ONSS): employers, mandates, Dimona periods,
employment events; the worker's identity through the router; the reference directory fed from
accepted declarations."""
