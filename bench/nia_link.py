"""NIA link benchmark: Czech POINT provisions matched to open requests through the real task
and clients, and Complete, against the simulated register and NIA over real HTTP (PostgreSQL).

The simulator runs in this process on a threaded WSGI server on loopback, with the portal, in a
database of its own that the benchmark creates and drops. N accounts each file a request; the
desk files N provisions with their codes; then the task (`nia_link.matching.match_provisions`)
is timed while it reads the feed, reads each citizen from the register and matches the person at
NIA (TR_ZTOTOZNENI), and verifies each request. `http_roundtrip_ms` is the bare cost of the HTTP
calls one match needs (the citizen's GET, the match's POST and a hundredth of a feed page's GET),
measured in the same run with the same client; `ratio` = per-provision time / that. Then
`--completions` verified links are completed (each registers one MojeID Klíč with NIA:
TR_EVIDENCE_VIP_ZAPIS), timed one by one, server side. Prints one JSON object on its last line.
    python bench/nia_link.py [--provisions 10000] [--completions 200]
"""

import argparse
import json
import statistics
import time
from datetime import date, timedelta

from benchlib import percentile_ms, start_django, state_systems_on_loopback

start_django("mojeid_bench_nia")

from django.db import connection
from django.utils import timezone

RATIO_TARGET = 1.5
FEED_PAGE = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provisions", type=int, default=10_000)
    parser.add_argument("--completions", type=int, default=200)
    args = parser.parse_args()

    with state_systems_on_loopback() as url:
        links = prepare(url, args.provisions)
        result = measure_matching(links)
        result |= measure_completion(links[: args.completions])
        print(json.dumps(result))


def prepare(url: str, count: int) -> list:
    """`count` accounts with MojeID Klíč and an open Czech POINT request each, the citizens in the
    register, and a provision filed for every request (bulk: what is timed is the matching)."""
    from accounts.models import Profile, User
    from govsim.nia import seed as nia_seed
    from govsim.rob import seed as rob_seed
    from govsim.rob.models import Citizen, DataProvisionRequest, Recipient
    from govsim.tests.people import make_clerk
    from nia_link.internal import codes
    from nia_link.models import Link, LinkState, Route
    from twofactor.models import KlicDevice

    rob_seed.seed_portal()
    nia_seed.seed(url)
    clerk, recipient = make_clerk(), Recipient.objects.get()
    users = User.objects.bulk_create(User(username=f"bench{n}", password="!") for n in range(count))
    now = timezone.now()
    Profile.objects.bulk_create(
        Profile(
            user=user,
            first_name="Jana",
            last_name=f"Nováková {n}",
            street="Vinohradská 1",
            city="Praha",
            postal_code="10000",
            email=f"bench{n}@example.cz",
            email_confirmed_at=now,
            phone="+420601123456",
            phone_confirmed_at=now,
        )
        for n, user in enumerate(users)
    )
    KlicDevice.objects.bulk_create(
        KlicDevice(user=user, name="Klíč", confirmed=True, public_key=b"k", pin_verifier="v")
        for user in users
    )
    links = Link.objects.bulk_create(
        Link(
            user=user,
            state=LinkState.REQUESTED,
            level="substantial",
            route=Route.CZECH_POINT,
            request_code=codes.new_code(),
        )
        for user in users
    )
    citizens = Citizen.objects.bulk_create(
        Citizen(
            first_names="Jana",
            last_name=f"Nováková {n}",
            birth_date=date(1950, 1, 1) + timedelta(days=n),
            birth_place="Praha",
            residence_type="citizen",
            street="Vinohradská",
            house_number="1511",
            municipality="Praha",
            postal_code="10000",
            address_point_code=21776075 + n,
        )
        for n in range(count)
    )
    DataProvisionRequest.objects.bulk_create(
        DataProvisionRequest(
            recipient=recipient,
            request_code=link.request_code,
            citizen=citizen,
            clerk=clerk,
            office="Praha 1",
        )
        for link, citizen in zip(links, citizens, strict=True)
    )
    return links


def measure_matching(links: list) -> dict:
    from nia_link import matching
    from nia_link.clients import http, nia, rob
    from nia_link.models import Link, LinkState

    start = time.perf_counter()
    report = matching.match_provisions()
    seconds = time.perf_counter() - start
    assert report.verified == len(links), report
    assert Link.objects.filter(state=LinkState.VERIFIED).count() == len(links)

    # The bare HTTP calls of one match, with the same client, against the same servers.
    samples = []
    page = rob.provisions(after=0)
    for provision in page.provisions[:200]:
        begin = time.perf_counter()
        citizen = rob.citizen(provision.citizen)
        nia.match_person(
            citizen.first_names,
            citizen.last_name,
            citizen.birth_date,
            address_point_code=citizen.address.address_point_code,
        )
        samples.append(time.perf_counter() - begin)
    feed = []
    for _ in range(20):
        begin = time.perf_counter()
        http.call(http.System.configured("rob"), "GET", "provisions", query={"limit": FEED_PAGE})
        feed.append(time.perf_counter() - begin)
    roundtrip = statistics.mean(samples) + statistics.mean(feed) / FEED_PAGE
    per_provision = seconds / len(links)
    return {
        "provisions": len(links),
        "database": connection.vendor,
        "seconds": round(seconds, 2),
        "per_provision_ms": round(per_provision * 1000, 3),
        "http_roundtrip_ms": round(roundtrip * 1000, 3),
        "ratio": round(per_provision / roundtrip, 3),
        "ratio_target": RATIO_TARGET,
    }


def measure_completion(links: list) -> dict:
    from accounts.models import User
    from nia_link import completion
    from nia_link.models import Link, LinkState

    samples = []
    for link in links:
        user = User.objects.get(pk=link.user_id)
        begin = time.perf_counter()
        completion.complete(user, actor=user)
        samples.append(time.perf_counter() - begin)
    active = Link.objects.filter(state=LinkState.ACTIVE).count()
    assert active == len(links), active
    return {
        "completions": len(samples),
        "complete_p50_ms": round(statistics.median(samples) * 1000, 2),
        "complete_p95_ms": percentile_ms(samples, 0.95, digits=2),
    }


if __name__ == "__main__":
    main()
