"""What one store platform declares about itself, so that no module outside its folder names it: the classes
that do its work (webhook adapter, store-API reader), and the facts the OpenAPI document, `storebridge send`,
`check` / `setup`, the dashboard and the privacy commands ask it for. Each folder builds one `Platform` in its
`__init__.py`; `bridge.platforms.PLATFORMS` lists them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from bridge.platforms.adapter import Source
from bridge.platforms.reader import StoreReader

if TYPE_CHECKING:
    # Annotations only: the settings module gathers each platform's settings from these folders, so the
    # platforms must import without it.
    from bridge.check_calls import Check
    from bridge.settings import Settings
    from bridge.storage import Database, EventRecord

#: A header in the OpenAPI document: (name, required, what it carries).
Header = tuple[str, bool, str]


@dataclass(frozen=True)
class OpenAPIDoc:
    """The platform's webhook endpoint in the OpenAPI document."""

    #: The security scheme's name in `components.securitySchemes`, and the scheme itself.
    scheme_name: str
    scheme: dict[str, Any]
    #: What the endpoint takes, in one or two sentences.
    description: str
    headers: tuple[Header, ...]
    #: The request body example: `fixture` (the test fixture it is trimmed from), `topic`, `summary`, `value`.
    example: dict[str, Any]
    #: A component schema the body is documented by (None: any JSON object, mapped later by the worker).
    body_schema: str | None = None


@dataclass(frozen=True)
class SendDefaults:
    """How `storebridge send` signs a fixture file as the platform would."""

    #: Fixture names encode the topic: `orders_paid__x.json` -> `orders/paid` with separator "/" (None: the
    #: platform sends no topic header).
    topic_separator: str | None = None
    #: The topics the bridge handles, in the order `send` lists them.
    handled_topics: tuple[str, ...] = ()
    #: What `--store` means for this platform (`shop domain (Shopify)`); None: it takes no store.
    store_help: str | None = None


@dataclass(frozen=True)
class StoreAPI:
    """The store's own API as `check`, `setup` and the start-up transport warning see it."""

    #: The variable that turns the API on (named in "no store API configured" hints).
    variable: str
    #: The store's API is set up (so the shop is clearly on this platform).
    configured: Callable[[Settings], bool]
    #: One cheap authenticated read (None when the credentials are not set); None: no check line.
    check: Callable[[Settings], Check | None] | None = None
    #: (variable, URL or None, what credential it carries) for the `http://` transport warning.
    cleartext: Callable[[Settings], tuple[str, str | None, str]] | None = None
    #: The store `setup` sets up without --store (as its webhooks name it), and its variable and an example.
    own_store: Callable[[Settings], str | None] | None = None
    own_store_example: str | None = None


def _same(document: Any) -> Any:
    return document


@dataclass(frozen=True)
class OrderFacts:
    """What a destination that carries more than the canonical event (AC's GraphQL order: the store's own
    status word, whole addresses) reads from the platform's raw webhook body, and what each status means."""

    #: The store's status word in the parsed body (a dict), or None / a non-string when it has none.
    status_word: Callable[[dict[str, Any]], Any]
    #: The store's status word -> the order's normalized status (PENDING_PAYMENT, WAITING, FAILED, ABANDONED,
    #: PENDING, COMPLETED, CANCELLED, REFUNDED: AC's `normalizedStatus` vocabulary).
    statuses: dict[str, str]
    #: The order's billing and shipping address keys, and each address field (firstName, address1, postal, …)
    #: -> the store's own key for it.
    billing_key: str
    shipping_key: str
    address_fields: dict[str, str]
    #: The object the addresses are in, within the parsed body (default: the body itself).
    address_document: Callable[[Any], Any] = _same


@dataclass(frozen=True)
class Compliance:
    """Privacy requests the platform sends as webhooks (stored, then carried out by the worker, never
    delivered): the kinds they are stored as and what carries one out (returning the note)."""

    kinds: frozenset[str]
    carry_out: Callable[[Database, EventRecord], str]


@dataclass(frozen=True)
class Platform:
    """One store platform: its name (the path of its webhook endpoint), its classes, and what it declares."""

    name: str
    #: As people write it (`WooCommerce`).
    title: str
    source: type[Source]
    #: The store-API reader (backfill, reconciliation), None when the bridge reads no API of this platform.
    reader: type[StoreReader] | None
    #: The variable holding its webhook secrets (tokens), and how to read them from the settings.
    signing_variable: str
    webhook_secrets: Callable[[Settings], tuple[str, ...]]
    #: Request headers that carry a signature or token: never stored, always redacted in logs.
    secret_headers: tuple[str, ...]
    openapi: OpenAPIDoc
    #: Where the order's id is in a raw webhook body (first found wins): the dashboard's event page.
    order_id_paths: tuple[tuple[str, ...], ...]
    send: SendDefaults = field(default_factory=SendDefaults)
    store_api: StoreAPI | None = None
    compliance: Compliance | None = None
    order_facts: OrderFacts | None = None


def load_example(module: str) -> dict[str, Any]:
    """The request example kept as data beside a platform's `openapi` module (`openapi_example.json`)."""
    package = module.rpartition(".")[0]
    loaded: dict[str, Any] = json.loads(resources.files(package).joinpath("openapi_example.json").read_text("utf-8"))
    return loaded
