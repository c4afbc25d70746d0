"""gRPC credentials from the PKI files: mTLS always, no plaintext port ever."""

from __future__ import annotations

import grpc

from runtime.config import TlsFiles


def server_credentials(tls: TlsFiles) -> grpc.ServerCredentials:
    """Server credentials that *require* a client certificate signed by the mesh's CA."""
    return grpc.ssl_server_credentials(
        [(tls.key.read_bytes(), tls.cert.read_bytes())],
        root_certificates=tls.ca.read_bytes(),
        require_client_auth=True,
    )


def channel_credentials(tls: TlsFiles) -> grpc.ChannelCredentials:
    """Client credentials presenting our certificate and trusting only the mesh's CA."""
    return grpc.ssl_channel_credentials(
        root_certificates=tls.ca.read_bytes(),
        private_key=tls.key.read_bytes(),
        certificate_chain=tls.cert.read_bytes(),
    )
