"""A bare byte-forwarding hop on the shared runtime: no checks, no log (the router's baseline).

`python -m bench.hop` with TARGET=host:port forwards every `/cbss.` method's request bytes to the
target and the reply bytes back, as the router does, presenting the router's certificate and
copying the routing headers it received. Used only by `make bench`.
"""

from __future__ import annotations

import grpc

from runtime import telemetry
from runtime.client import secure_channel
from runtime.config import EnvReader, RuntimeSettings
from runtime.identity import ROUTING_HEADERS
from runtime.server import Registration, ServiceHost


class Hop(grpc.GenericRpcHandler):
    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._calls: dict[str, grpc.UnaryUnaryMultiCallable] = {}

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        path = details.method
        if not path.startswith("/cbss."):
            return None
        call = self._calls.get(path) or self._calls.setdefault(
            path, self._channel.unary_unary(path)
        )

        def forward(raw: bytes, context: grpc.ServicerContext) -> bytes:
            metadata = [(k, v) for k, v in context.invocation_metadata() if k in ROUTING_HEADERS]
            return call(raw, metadata=metadata, timeout=context.time_remaining())

        return grpc.unary_unary_rpc_method_handler(forward)


def main() -> int:
    env = EnvReader()
    settings = RuntimeSettings.read(env, service="hop", cert_name="router")
    target = env.str("TARGET")
    env.finish()
    telemetry.setup_logging("hop", settings.log_level)
    hop = Hop(secure_channel(target, settings.tls))
    ServiceHost(
        settings=settings,
        registrations=[
            Registration(
                lambda _s, server: server.add_generic_rpc_handlers([hop]), None, "", access="DIRECT"
            )
        ],
    ).serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
