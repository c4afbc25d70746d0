"""The institution inbox: where electronic attestations delivered through the router land.

One program, many instances: each process is one institution's inbox (`INBOX_INSTITUTION=onem`),
presents that institution's certificate (`institution-<id>`) and keeps what it received in its
own database. It accepts deliveries only from a router (`DeliverAttestation`, idempotent on the
attestation id), answers the sender's status question through a router, and lists and
acknowledges attestations for the owning institution only. See README.md.
"""
