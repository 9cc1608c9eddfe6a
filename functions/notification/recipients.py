"""Who a notification goes to: looked up in the tenant's own records, never taken from the event.

An event names its user (``user_id``, the token's ``sub``) and its booking (``booking_id``). Any
address in its data is ignored: whoever produced that data may have put anything there. The
sources in ``business/recipients.sources`` are asked in order and, per kind of address (e-mail,
phone), the first that has one wins; once both are known no further source is asked.

- ``user_directory``: ``AdminGetUser`` on the tenant's pool (``integration/resources.user_pool_id``).
  The pool signs users in by e-mail, so each username is the user's ``sub`` and the event's user
  id is the username. With ``verified_only`` an address counts only when its ``*_verified``
  attribute is ``true``: users may change their own e-mail and phone through the app client, and
  Cognito marks a changed address unverified until it is confirmed.
- ``booking_contact``: the ``contact`` map (``email``, ``phone``) on the booking's details item in
  ``integration/resources.bookings_table``. A booking of another tenant, or one without a usable
  contact, gives nothing.

A user or booking that does not exist (or an id no store could hold) gives nothing; any other
error of the pool or the table propagates, so the record is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from common.aws_clients import AwsClients
from common.dynamo_items import from_item

from .config_schema import BOOKING_CONTACT, USER_DIRECTORY, NotificationConfig
from .models import EventEnvelope

USER_FIELD, BOOKING_FIELD = "user_id", "booking_id"
# Cognito's own attribute names, and the value it gives a verified flag.
EMAIL_ATTRIBUTE, PHONE_ATTRIBUTE, VERIFIED_SUFFIX, VERIFIED = "email", "phone_number", "_verified", "true"
# The booking service's details item (functions/booking/repository.py) and its contact map.
BOOKING_PK_PREFIX, BOOKING_DETAILS_SK = "BOOKING#", "DETAILS"
CONTACT_FIELD, CONTACT_EMAIL, CONTACT_PHONE, TENANT_FIELD = "contact", "email", "phone", "tenant_id"
# Hard limits of the stores: Cognito usernames are 1 to 128 characters (AdminGetUser), DynamoDB
# partition keys at most 2,048 bytes.
COGNITO_USERNAME_MAX_CHARS = 128
DYNAMODB_PARTITION_KEY_MAX_BYTES = 2048


@dataclass(frozen=True)
class Recipient:
    """The addresses a message can go to; ``None`` where no source had one."""

    email: str | None = None
    phone: str | None = None

    @property
    def resolved(self) -> bool:
        return bool(self.email or self.phone)

    @property
    def complete(self) -> bool:
        return bool(self.email and self.phone)

    def filled_from(self, other: Recipient) -> Recipient:
        """This recipient, with what it lacks taken from ``other``."""
        return Recipient(email=self.email or other.email, phone=self.phone or other.phone)

    def document(self) -> dict[str, str]:
        """The known addresses by kind, for the outbound message."""
        return {kind: value for kind, value in (("email", self.email), ("phone", self.phone)) if value}


class RecipientResolver:
    """Looks recipients up with the function's low-level Cognito and DynamoDB clients."""

    def __init__(self, tenant_id: str, aws: AwsClients) -> None:
        self._tenant_id = tenant_id
        self._aws = aws

    def resolve(self, event: EventEnvelope, config: NotificationConfig) -> Recipient:
        """The recipient of ``event`` from the configured sources, in order."""
        rules = config.business.recipients
        lookups = {USER_DIRECTORY: self._from_directory, BOOKING_CONTACT: self._from_booking}
        recipient = Recipient()
        for source in rules.sources:
            if recipient.complete:
                break
            recipient = recipient.filled_from(lookups[source](event, config))
        return recipient

    def _from_directory(self, event: EventEnvelope, config: NotificationConfig) -> Recipient:
        user_id = event.data.get(USER_FIELD)
        if not isinstance(user_id, str) or not 0 < len(user_id) <= COGNITO_USERNAME_MAX_CHARS:
            return Recipient()
        client = self._aws.client("cognito-idp")
        try:
            user = client.admin_get_user(UserPoolId=config.integration.resources.user_pool_id, Username=user_id)
        except client.exceptions.UserNotFoundException:
            return Recipient()
        attributes = {a["Name"]: a.get("Value", "") for a in user.get("UserAttributes", [])}
        verified_only = config.business.recipients.verified_only

        def usable(name: str) -> str | None:
            value = attributes.get(name)
            if not value or (verified_only and attributes.get(name + VERIFIED_SUFFIX) != VERIFIED):
                return None
            return value

        return Recipient(email=usable(EMAIL_ATTRIBUTE), phone=usable(PHONE_ATTRIBUTE))

    def _from_booking(self, event: EventEnvelope, config: NotificationConfig) -> Recipient:
        booking_id = event.data.get(BOOKING_FIELD)
        if not isinstance(booking_id, str) or not booking_id:
            return Recipient()
        partition = f"{BOOKING_PK_PREFIX}{booking_id}"
        if len(partition.encode()) > DYNAMODB_PARTITION_KEY_MAX_BYTES:
            return Recipient()
        answer = self._aws.client("dynamodb").get_item(
            TableName=config.integration.resources.bookings_table,
            Key={"pk": {"S": partition}, "sk": {"S": BOOKING_DETAILS_SK}},
            ConsistentRead=True,
        )
        item = from_item(answer["Item"]) if "Item" in answer else {}
        contact = item.get(CONTACT_FIELD)
        # The table is the tenant's own; the tenant on the item is a second guard.
        if item.get(TENANT_FIELD) != self._tenant_id or not isinstance(contact, Mapping):
            return Recipient()
        return Recipient(email=_text(contact.get(CONTACT_EMAIL)), phone=_text(contact.get(CONTACT_PHONE)))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
