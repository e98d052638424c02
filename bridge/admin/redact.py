"""Keep setting values (secrets, tokens, the database password) out of admin answers, whatever got stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from bridge.settings import Settings

REDACTED = "[redacted]"


def secret_values(settings: Settings) -> tuple[str, ...]:
    """Every secret the settings hold, longest first (so a secret containing another is replaced whole)."""
    values: set[str] = {
        *settings.shopify_secrets,
        *settings.woocommerce_secrets,
        *settings.ecartapi_webhook_tokens,
        *settings.webhook_secrets,
        # A Standard Webhooks secret is also used without its prefix (the base64 key).
        *(s.removeprefix("whsec_") for s in settings.webhook_secrets),
    }
    for token in (settings.ac_token, settings.ecart_token, settings.admin_token):
        if token:
            values.add(token)
    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unparsable URL holds no password we could find; the settings check rejects it anyway
        password = None
    if password:
        values.add(str(password))
    return tuple(sorted((v for v in values if v), key=len, reverse=True))


class Redactor:
    """Replaces every secret in a JSON-like document (keys and string values)."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets

    @classmethod
    def for_settings(cls, settings: Settings) -> Redactor:
        """The redactor of `settings`' secrets."""
        return cls(secret_values(settings))

    def text(self, value: str) -> str:
        """`value` with every secret replaced."""
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def scrub(self, document: Any) -> Any:
        """A copy of `document` (dicts, lists, strings, scalars) with every secret replaced."""
        if isinstance(document, str):
            return self.text(document)
        if isinstance(document, dict):
            return {self.text(k) if isinstance(k, str) else k: self.scrub(v) for k, v in document.items()}
        if isinstance(document, list | tuple):
            return [self.scrub(item) for item in document]
        return document
