"""The edge: Envoy in front of the mesh, its configuration rendered from one source."""
