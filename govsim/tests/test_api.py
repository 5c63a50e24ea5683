"""What every JSON feed of the simulated state shares (`govsim.api`): its cursor parameters."""

import pytest

from govsim.api import MAX_PAGE
from govsim.isds.models import BoxType, DataBox
from govsim.rob.tests.factories import API_KEY, make_recipient

pytestmark = pytest.mark.django_db

ISDS_KEY = "test-isds-key-feed"
FEEDS = {
    "rob-provisions": ("/sim/rob/api/v1/provisions", API_KEY),
    "rob-changes": ("/sim/rob/api/v1/changes", API_KEY),
    "isds-messages": ("/sim/isds/api/v1/messages", ISDS_KEY),
}


@pytest.fixture(autouse=True)
def clients_of_the_feeds(db):
    from govsim.api import key_hash

    make_recipient()
    DataBox.objects.create(
        box_id="mojeid1", box_type=BoxType.PO, name="MojeID", api_key_hash=key_hash(ISDS_KEY)
    )


def read(client, feed: str, **params):
    path, key = FEEDS[feed]
    return client.get(path, params, headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(
    "value",
    [
        " 5",
        "5 ",
        "５",  # fullwidth digit five
        "1_000",
        "+3",
        "-0",
        "٣",  # Arabic-Indic digit three
        "²",
        "0x10",
        "1e3",
        "3.0",
        "9" * 5000,
        "\x00",
    ],
)
@pytest.mark.parametrize("name", ["after", "limit"])
def test_a_cursor_parameter_takes_ascii_digits_only(client, feed, name, value):
    response = read(client, feed, **{name: value})

    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "bad_request"
    assert name in response.json()["message"]


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 200),
        ({"after": "0", "limit": "1"}, 200),
        ({"after": "007", "limit": str(MAX_PAGE)}, 200),
        ({"limit": "0"}, 400),
        ({"limit": str(MAX_PAGE + 1)}, 400),
        ({"after": str(2**62 + 1)}, 400),
    ],
)
def test_plain_numbers_in_range_are_read(client, feed, params, status):
    response = read(client, feed, **params)

    assert response.status_code == status, response.content[:200]
    if status == 200:
        assert response.json()["cursor"] == int(params.get("after", 0))
