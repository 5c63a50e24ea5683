"""Register sync benchmark: NIA's feed of ROBREF events about MojeID's people read and applied
through the real task and client (`nia_link.sync.sync_with_register`), against the simulated NIA
over real HTTP on loopback (PostgreSQL).

The simulator runs in this process on a threaded WSGI server, with the portal, in a database of
its own that the benchmark creates and drops. N events wait in NIA's feed for the portal; a
hundredth of them concern people the portal links (their data changed: each goes into a locked
profile with an e-mail), the rest people it does not. The task is timed while it reads the feed
page by page and applies what concerns it. Then the same pages are read again with the bare
HTTP call of the client (`http.call`, no parsing into dataclasses, nothing applied):
`ratio` = the task's time / that. Prints one JSON object on its last line.

    python bench/nia_sync.py [--events 100000]
"""

import argparse
import json
import time
import uuid
from datetime import date, timedelta

from benchlib import start_django, state_systems_on_loopback

start_django("mojeid_bench_sync")

from django.db import connection
from django.utils import timezone

RATIO_TARGET = 1.5
LINKED_SHARE = 100  # one event in a hundred concerns a linked person


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    with state_systems_on_loopback() as url:
        linked = prepare(url, args.events)
        print(json.dumps(measure(args.events, linked)))


def prepare(url: str, events: int) -> int:
    """Accounts with an active link for a hundredth of the events, and the events in NIA's feed
    (bulk: what is timed is the sync). Returns how many events concern linked people."""
    from accounts.models import Profile, User
    from govsim.nia import backchannel
    from govsim.nia import seed as nia_seed
    from govsim.nia.models import NotificationSource, ProviderNotification, ServiceProvider
    from govsim.rob.models import Citizen
    from nia_link.clients import nia
    from nia_link.models import Link, LinkState, Route
    from nia_link.services import register_data

    nia_seed.seed(url)
    provider = ServiceProvider.objects.get()
    linked = events // LINKED_SHARE
    users = User.objects.bulk_create(
        User(username=f"bench{n}", password="!") for n in range(linked)
    )
    now = timezone.now()
    Profile.objects.bulk_create(
        Profile(
            user=user,
            first_name="Jana",
            last_name=f"Nováková {n}",
            birth_date=date(1950, 1, 1) + timedelta(days=n),
            street="Vinohradská 1511",
            city="Praha",
            postal_code="10000",
            country="CZ",
            email=f"bench{n}@example.cz",
            email_confirmed_at=now,
        )
        for n, user in enumerate(users)
    )
    citizens = [
        Citizen(
            first_names="Jana",
            last_name=f"Dvořáková {n}",  # the register's change: a new last name
            birth_date=date(1950, 1, 1) + timedelta(days=n),
            birth_place="Praha",
            residence_type="citizen",
            street="Vinohradská",
            house_number="1511",
            municipality="Praha",
            postal_code="10000",
            address_point_code=21776075 + n,
        )
        for n in range(linked)
    ]
    changed = [backchannel.reference_data(citizen) for citizen in citizens]
    bsis = [str(uuid.uuid4()) for _ in range(linked)]
    links = []
    for n, (user, data) in enumerate(zip(users, changed, strict=True)):
        before = nia.person_data({**data, "Prijmeni": f"Nováková {n}"})
        links.append(
            Link(
                user=user,
                state=LinkState.ACTIVE,
                level="substantial",
                route=Route.CZECH_POINT,
                bsi=bsis[n],
                register_data=register_data(nia.Person(bsi=bsis[n], **before)),
                activated_at=now,
            )
        )
    Link.objects.bulk_create(links)
    stranger = changed[0]
    rows = []
    for n in range(events):
        mine = n % LINKED_SHARE == 0 and n // LINKED_SHARE < linked
        rows.append(
            ProviderNotification(
                service_provider=provider,
                bsi=bsis[n // LINKED_SHARE] if mine else str(uuid.uuid4()),
                source=NotificationSource.REGISTER,
                reference_data=changed[n // LINKED_SHARE] if mine else stranger,
            )
        )
    ProviderNotification.objects.bulk_create(rows, batch_size=5000)
    return linked


def measure(events: int, linked: int) -> dict:
    from accounts.models import Profile
    from nia_link import sync
    from nia_link.clients import http

    start = time.perf_counter()
    report = sync.sync_with_register()
    seconds = time.perf_counter() - start
    assert (report.read, report.applied, report.skipped) == (events, linked, events - linked), (
        report
    )
    assert Profile.objects.filter(last_name__startswith="Dvořáková").count() == linked

    # The same pages again, with the bare HTTP call the client makes.
    system = http.System.configured("nia")
    after, bare = 0, 0.0
    while True:
        begin = time.perf_counter()
        answer = http.call(
            system,
            "POST",
            "submit/TR_NOTIFIKACE_IDP",
            body={"NotifikaceIdpPosledniId": after},
        )
        bare += time.perf_counter() - begin
        items = answer["Notifikace"]
        if not items:
            break
        after = items[-1]["Id"]
        if not answer["ExistujiDalsiNotifikace"]:
            break
    return {
        "events": events,
        "linked_events": linked,
        "database": connection.vendor,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds, 1),
        "http_seconds": round(bare, 2),
        "ratio": round(seconds / bare, 3),
        "ratio_target": RATIO_TARGET,
    }


if __name__ == "__main__":
    main()
