"""`make bench`: throughput and CPU cost per call of Carrefour's services, beside a bare echo."""
