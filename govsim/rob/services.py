"""Operations of the simulated base register: changing a citizen's data, filing a data provision,
and what a recipient may read.

Every change of a citizen's data goes through `update_citizen`, which records a `CitizenChange`
in the same transaction, so that the recipients' change feed never misses one. The admin, the
seed and the tests all call it.
"""

from collections.abc import Mapping
from datetime import date

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from govsim.api import key_hash, lock_feed, new_api_key
from govsim.models import StaffMember

from .models import Citizen, CitizenChange, DataProvisionRequest, IdDocument, Recipient

# The feeds the recipients read with a cursor (see govsim.api.lock_feed).
CHANGES_FEED, PROVISIONS_FEED = "rob-changes", "rob-provisions"

# The citizen's data a recipient reads (GET citizens/<identifier>); a change of any of them is a
# change the recipients are told about. "documents" stands for the citizen's identity documents.
TRACKED_FIELDS = (
    "first_names",
    "last_name",
    "birth_date",
    "birth_place",
    "citizenship",
    "residence_type",
    "street",
    "house_number",
    "orientation_number",
    "municipality_part",
    "municipality",
    "postal_code",
    "address_point_code",
    "data_box_id",
    "deceased",
    "death_date",
)
DOCUMENTS = "documents"


def update_citizen(
    citizen: Citizen,
    changes: Mapping[str, object] | None = None,
    *,
    documents_changed: bool = False,
) -> CitizenChange | None:
    """Save `citizen` (with `changes` applied) and record which of its data changed.

    The fields compared are TRACKED_FIELDS, against the row as stored; the caller may have set
    them on the instance already (the admin's form does) or pass them in `changes`.
    `documents_changed` adds "documents" (the caller changed the citizen's documents). Returns
    the recorded change, or None when nothing a recipient reads has changed.
    """
    unknown = set(changes or {}) - set(TRACKED_FIELDS)
    if unknown:
        raise ValueError(f"not citizen data: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        stored = Citizen.objects.select_for_update().filter(pk=citizen.pk).first()
        for name, value in (changes or {}).items():
            setattr(citizen, name, value)
        citizen.save()
        if stored is None:
            return None  # a new citizen: nobody can have received data about them yet
        changed = [
            name for name in TRACKED_FIELDS if getattr(stored, name) != getattr(citizen, name)
        ]
        if documents_changed:
            changed.append(DOCUMENTS)
        if not changed:
            return None
        lock_feed(CHANGES_FEED)
        return CitizenChange.objects.create(citizen=citizen, fields=changed)


def record_documents_changed(
    citizen: Citizen, *, into: CitizenChange | None = None
) -> CitizenChange:
    """Record that the citizen's documents changed: added to `into` (the change just recorded for
    the same save, so that one edit is one item of the feed) or as a change of its own."""
    with transaction.atomic():
        if into is not None:
            if DOCUMENTS not in into.fields:
                into.fields = [*into.fields, DOCUMENTS]
                into.save(update_fields=["fields"])
            return into
        lock_feed(CHANGES_FEED)
        return CitizenChange.objects.create(citizen=citizen, fields=[DOCUMENTS])


def file_provision(
    *,
    recipient: Recipient,
    request_code: str,
    citizen: Citizen,
    clerk: StaffMember,
    office: str,
    document: IdDocument | None = None,
    stated_first_names: str = "",
    stated_last_name: str = "",
    stated_birth_date: date | None = None,
) -> tuple[DataProvisionRequest, bool]:
    """File "Data provision from the Register of inhabitants to another person".

    `request_code` must already be in its canonical form (the desk checks its form). Filing the
    same code for the same citizen and recipient again (a clerk's double submit, a reload) returns
    the request filed before instead of a second one: (request, created).
    """
    if citizen.deceased:
        raise ValueError("a deceased citizen cannot be served")
    with transaction.atomic():
        # Lock the citizen so that two simultaneous submits of the same request make one (on
        # SQLite, which ignores the row lock, the transaction's IMMEDIATE write lock does).
        Citizen.objects.select_for_update().filter(pk=citizen.pk).exists()
        existing = DataProvisionRequest.objects.filter(
            recipient=recipient, request_code=request_code, citizen=citizen
        ).first()
        if existing is not None:
            return existing, False
        lock_feed(PROVISIONS_FEED)
        provision = DataProvisionRequest.objects.create(
            recipient=recipient,
            request_code=request_code,
            citizen=citizen,
            clerk=clerk,
            office=office,
            document=document,
            stated_first_names=stated_first_names,
            stated_last_name=stated_last_name,
            stated_birth_date=stated_birth_date,
        )
        return provision, True


def recipient_for_key(raw_key: str) -> Recipient | None:
    """The recipient holding this API key (only the key's SHA-256 is stored)."""
    if not raw_key:
        return None
    return Recipient.objects.filter(api_key_hash=key_hash(raw_key)).first()


def new_recipient_key(recipient: Recipient) -> str:
    """Set a new API key on the recipient (the caller saves it; the old key then stops working).

    The key itself is returned to be shown once: only its SHA-256 is kept.
    """
    raw_key = new_api_key()
    recipient.api_key_hash = key_hash(raw_key)
    return raw_key


def provisions_for(recipient: Recipient) -> QuerySet[DataProvisionRequest]:
    """The data provisions filed for the recipient (the provisions feed)."""
    return DataProvisionRequest.objects.filter(recipient=recipient).select_related(
        "citizen", "document", "clerk"
    )


def citizens_for(recipient: Recipient) -> QuerySet[Citizen]:
    """The citizens whose data the recipient may read: a data provision was filed for it."""
    return Citizen.objects.filter(
        Exists(DataProvisionRequest.objects.filter(recipient=recipient, citizen=OuterRef("pk")))
    )


def changes_for(recipient: Recipient) -> QuerySet[CitizenChange]:
    """The changes the recipient is told about: of a citizen with a data provision to it filed no
    later than the change. A change never enters or leaves the feed afterwards (provisions are
    never deleted), so a page read again gives the same items."""
    return CitizenChange.objects.filter(
        Exists(
            DataProvisionRequest.objects.filter(
                recipient=recipient,
                citizen=OuterRef("citizen"),
                created_at__lte=OuterRef("changed_at"),
            )
        )
    ).select_related("citizen")


def find_by_document(kind: str, number: str) -> IdDocument | None:
    """The document of this kind and number (spaces and case ignored), with its citizen."""
    cleaned = "".join(number.split())
    if not cleaned:
        return None
    return (
        IdDocument.objects.select_related("citizen")
        .filter(kind=kind, number__iexact=cleaned)
        .first()
    )


def find_by_name(last_name: str, birth_date: date, first_names: str = "") -> list[Citizen]:
    """Citizens with this last name and birth date (and first names, when given), case ignored.

    Several people may match: the clerk picks one by the other data shown.
    """
    citizens = Citizen.objects.filter(last_name__iexact=last_name.strip(), birth_date=birth_date)
    if first_names.strip():
        citizens = citizens.filter(first_names__icontains=first_names.strip())
    return list(citizens.order_by("last_name", "first_names", "municipality", "pk"))
