"""The shared runtime of every Carrefour service.

One package, used by every service, so that no service copies it: server bootstrap (health,
reflection, graceful shutdown), identity by mTLS, error mapping to rich gRPC statuses,
telemetry (JSON logs, OpenTelemetry), database engine, unit of work and migrations, the
injectable clock, the development PKI and the validators of Belgian identifiers.

Modules that a service layer may import (no grpc, no sqlalchemy): `errors`, `clock`,
`identifiers`, `identity` (the `Caller` type only).
"""
