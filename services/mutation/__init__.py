"""The mutation service: a person's changes pushed to every institution that handles the person.

A dedicated part of the crossroads, presenting the CBSS's certificate (`institution/cbss`). It
reads the numbered event logs of the National Register, DIMONA and the DmfA through gRPC (never
their databases), resuming from the last sequence it durably took; finds in the router's
reference directory (through the router's gRPC) every institution holding the person on the
change's date, keeps those whose ISC grant covers the event type for the capacity they hold the
person in and who chose the event type; and queues one notification per institution in the
shared outbox, in the same transaction that moves its position in the source's log. The outbox
delivers each notification to the institution's inbox through the router (routed, checked and
logged like any message; through the hub for the mutualities). See README.md.
"""
