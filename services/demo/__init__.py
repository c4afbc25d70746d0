"""`make demo`: a story played against the running mesh, through the edge."""
