"""Distinctive people for the privacy tests: a Shopify `orders/paid` body (the basic fixture) rewritten so that
every personal value in it is unique to one person, and easy to search for anywhere (tables, log lines)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from tests.helpers import signing
from tests.helpers.env import fixture

#: The admin token of the privacy tests (admin API and dashboard).
ADMIN_TOKEN = "privacy-admin-token-0123456789"

_ORIGINAL = {
    "email": "maya.okafor@example.com",
    "first_name": "Maya",
    "last_name": "Okafor",
    "phone": "+17185550142",
    "street": "318 Atlantic Ave",
    "street2": "Apt 4R",
}


@dataclass(frozen=True)
class Person:
    """One buyer, with values that occur nowhere else."""

    n: int

    @property
    def email(self) -> str:
        return f"zephyrine.quillfeather{self.n}@privacy-test.example"

    @property
    def first_name(self) -> str:
        return f"Zephyrine{self.n}x"

    @property
    def last_name(self) -> str:
        return f"Quillfeather{self.n}y"

    @property
    def phone(self) -> str:
        return f"+1202555{self.n:04d}"

    @property
    def street(self) -> str:
        return f"{700 + self.n} Marigoldvale Crescent"

    @property
    def customer_id(self) -> str:
        return str(990000 + self.n)

    def personal(self) -> list[str]:
        """Every value that must not outlive retention or an erasure (nor appear in a log line)."""
        return [self.email, self.first_name, self.last_name, self.phone, self.street]

    def order_body(self, order_no: int) -> bytes:
        """A paid order of this person (order id and checkout token of its own)."""
        text = fixture("shopify", "orders_paid__basic.json").decode()
        for name, value in _ORIGINAL.items():
            text = text.replace(value, {"street2": f"Suite {self.n}z", **self._values()}.get(name, value))
        document: dict[str, Any] = json.loads(text)
        document["id"] = int(f"{self.n}{order_no:04d}1")
        document["checkout_token"] = f"tok{self.n:04d}{order_no:04d}"
        document["customer"]["id"] = int(self.customer_id)
        return json.dumps(document).encode()

    def _values(self) -> dict[str, str]:
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phone": self.phone,
            "street": self.street,
        }


def post_signed(client: FlaskClient, body: bytes, topic: str, *, webhook_id: str | None = None) -> Any:
    """POST to the Shopify endpoint, signed as Shopify signs."""
    headers = signing.shopify_headers(body, topic, webhook_id=webhook_id)
    return client.post("/webhooks/shopify", data=body, headers=headers)
