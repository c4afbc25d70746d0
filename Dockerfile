# The Carrefour image: every service (`python -m <service>`) and the edge's Envoy, non-root.
# Built with `docker build -t carrefour:dev .` (no Docker engine on the development machines:
# tests/unit/test_k8s.py checks this file statically).
FROM python:3.11.7-slim-bookworm AS build
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY protos protos
COPY third_party third_party
COPY services services
# The virtualenv with the pinned dependencies, the generated code; no tests, no dev tools.
RUN python -m venv .venv \
    && .venv/bin/pip install --no-cache-dir -q -c constraints.txt . \
    && printf '%s\n' /app/services /app/gen > \
       "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/carrefour.pth" \
    && mkdir gen && .venv/bin/python -m grpc_tools.protoc -I protos -I third_party/googleapis \
       --python_out=gen --grpc_python_out=gen $(find protos -name '*.proto' | sort) \
    && .venv/bin/python -m grpc_tools.protoc -I protos -I third_party/googleapis \
       --include_imports --include_source_info --descriptor_set_out=gen/carrefour.binpb \
       $(find protos -name '*.proto' | sort) google/rpc/status.proto google/rpc/error_details.proto \
    && (cd services && ../.venv/bin/python -m edge.openapi --descriptors ../gen/carrefour.binpb \
       --out ../gen/openapi.json)

FROM python:3.11.7-slim-bookworm
RUN groupadd --gid 10001 carrefour && useradd --uid 10001 --gid 10001 --no-create-home carrefour
WORKDIR /app
COPY --from=build /app/.venv .venv
COPY --from=build /app/gen gen
COPY --from=build /app/services services
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/var/lib/carrefour
USER 10001:10001
# `args: ["router"]` in a Deployment runs `python -m router`.
ENTRYPOINT ["/app/.venv/bin/python", "-m"]
