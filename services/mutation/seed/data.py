"""The demonstration's grants and subscriptions.

The deliberation references are illustrative (UNCONFIRMED: the real ISC deliberations on the
mutation service's flows are not in the brief). ONEM follows the persons it holds as controlled
(18/1) or registered (18/4) unemployed; the mutualities' college (`cin`, the hub) follows its
members' insured persons (11/1) and receives, for them, the changes the hub then routes to the
member mutuality that holds the person. Famiwal (family allowances, 7/101 and 7/104) has no
inbox: it reads its notifications as a stream.
"""

from __future__ import annotations

import datetime as dt

PERSON = ("person.address-changed", "person.death-recorded", "person.name-changed",
          "person.insz-replaced")  # fmt: skip
EMPLOYMENT = ("employment.started", "employment.ended", "employment.changed",
              "employment.cancelled")  # fmt: skip
WAGES = ("wages.declared", "wages.corrected")

VALID_FROM = dt.date(2000, 1, 1)

#: (institution, deliberation, event types, capacities)
GRANTS = (
    ("onem", "ISC/09/071", PERSON + EMPLOYMENT + WAGES, ("18/1", "18/4")),
    ("cin", "ISC/09/072", PERSON + EMPLOYMENT, ("11/1",)),
    ("famiwal", "ISC/09/075", PERSON, ("7/101", "7/104")),
)

#: What each chose, and how it receives them: Famiwal has no inbox in the demonstration mesh,
#: it reads its notifications as a stream through the router.
SUBSCRIPTIONS = {
    "onem": (PERSON + EMPLOYMENT + WAGES, "INBOX"),
    "cin": (PERSON + EMPLOYMENT, "INBOX"),
    "famiwal": (PERSON, "STREAM"),
}
