"""The register's services: recording changes, filing provisions, finding citizens."""

from datetime import date

import pytest

from govsim.rob import services
from govsim.rob.models import CitizenChange, DataProvisionRequest

from .factories import make_citizen, make_document

pytestmark = pytest.mark.django_db


def test_update_citizen_records_what_changed_in_order():
    citizen = make_citizen()

    change = services.update_citizen(
        citizen, {"postal_code": "13000", "first_names": "Jana Marie", "street": "Vinohradská"}
    )

    assert change.fields == ["first_names", "postal_code"]  # street did not change
    citizen.refresh_from_db()
    assert citizen.first_names == "Jana Marie"


def test_update_citizen_compares_with_the_stored_row_not_the_instance():
    citizen = make_citizen()
    citizen.municipality = "Brno"  # set on the instance, as the admin's form does

    change = services.update_citizen(citizen)

    assert change.fields == ["municipality"]


def test_update_citizen_without_a_change_records_nothing():
    citizen = make_citizen()

    assert services.update_citizen(citizen, {"last_name": "Nováková"}) is None
    assert not CitizenChange.objects.exists()


def test_update_citizen_refuses_what_is_not_citizen_data():
    citizen = make_citizen()

    with pytest.raises(ValueError, match="identifier"):
        services.update_citizen(citizen, {"identifier": "x"})


def test_documents_changed_is_added_to_the_same_change():
    citizen = make_citizen()
    change = services.update_citizen(citizen, {"street": "Jiná"})

    same = services.record_documents_changed(citizen, into=change)

    assert same.pk == change.pk
    assert CitizenChange.objects.get().fields == ["street", "documents"]


def test_filing_the_same_request_twice_files_it_once(recipient, clerk):
    citizen = make_citizen()
    arguments = {
        "recipient": recipient,
        "request_code": "AAAA-BBBB-CCCC",
        "citizen": citizen,
        "clerk": clerk,
        "office": "Czech POINT",
    }

    first, created = services.file_provision(**arguments)
    second, created_again = services.file_provision(**arguments)

    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    assert DataProvisionRequest.objects.count() == 1


def test_a_deceased_citizen_cannot_be_served(recipient, clerk):
    citizen = make_citizen(deceased=True, death_date=date(2024, 1, 1))

    with pytest.raises(ValueError):
        services.file_provision(
            recipient=recipient,
            request_code="AAAA-BBBB-CCCC",
            citizen=citizen,
            clerk=clerk,
            office="Czech POINT",
        )
    assert not DataProvisionRequest.objects.exists()


def test_find_by_document_ignores_spaces_and_case():
    citizen = make_citizen()
    make_document(citizen, "residence_certificate", "PP0123456")

    found = services.find_by_document("residence_certificate", " pp 0123 456 ")

    assert found.citizen == citizen
    assert services.find_by_document("passport", "PP0123456") is None
    assert services.find_by_document("passport", "   ") is None


def test_find_by_name_lists_namesakes_and_narrows_by_first_names():
    praha = make_citizen(first_names="Jan", last_name="Novák", birth_date=date(1990, 5, 5))
    olomouc = make_citizen(
        first_names="Jan Pavel",
        last_name="Novák",
        birth_date=date(1990, 5, 5),
        municipality="Olomouc",
    )
    make_citizen(first_names="Jan", last_name="Novák", birth_date=date(1991, 5, 5))

    both = services.find_by_name("novák", date(1990, 5, 5))
    narrowed = services.find_by_name("Novák", date(1990, 5, 5), first_names="pavel")

    assert set(both) == {praha, olomouc}
    assert narrowed == [olomouc]
