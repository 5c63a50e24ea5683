"""Sign-in benchmark: a public administration service → NIA → MojeID → NIA → the service, over real
HTTP on loopback, for a citizen whose browser session is signed in to MojeID already (PostgreSQL).

The portal and the simulated NIA run in this process on a threaded WSGI server on loopback, in a
database of its own that the benchmark creates and drops; the browser is a `requests.Session`, so
every hop is a real HTTP request, and the service is a python3-saml SP in this process (as in
`nia_link/tests/idp_world.py`: registered at NIA with assertions encrypted to it; the portal
registered at NIA with its metadata; a linked account with a software key registered with NIA).
The session signs in once (password and key on the portal's sign-in page for NIA); the portal's
freshness window (`NIA_IDP_FRESH_SECONDS`) is set to an hour, so every later AuthnRequest of NIA is
answered at once. Cookies are not `Secure` here (plain HTTP on loopback); database connections
persist, as the deployment's settings have them (`benchlib` sets TCP_NODELAY, as servers do).

Each round, timed end to end: the service's signed AuthnRequest (HTTP-Redirect) → NIA's choice
page → choose MojeID (POST) → NIA's signed AuthnRequest posted to the portal's single sign-on
service → the sign-in page, which answers at once (signed, encrypted assertion in a signed
Response) → posted to NIA's broker ACS (decrypted, both signatures verified by pysaml2) → the
consent page → consent (POST): NIA's signed, encrypted answer → read by the service (python3-saml,
strict: decrypts, verifies both signatures). Two rounds warm up untimed.

`crypto_ms` is the bare cryptography of one round, measured in the same run on the very documents
of the last round: the median (of `--repeat`) of each of signing the service's request
(python3-saml), signing NIA's request to MojeID (the simulator's xmlsec backend, as pysaml2 calls
it), verifying it (python3-saml's `validate_sign`, as the portal does), the portal's answer
(`saml_idp.success_response`: two signatures and encryption), NIA's reading of it (verify the
Response, decrypt, verify the Assertion, with the backend), NIA's answer (sign the Assertion,
encrypt, sign the Response, with the backend) and the service's reading (python3-saml
`OneLogin_Saml2_Response` + `is_valid`), summed. `ratio` = roundtrip p50 / crypto_ms.
`--profile N` prints where N rounds spend their time (server and browser side) to stderr.
Prints one JSON object on its last line.
    python bench/nia_signin.py [--rounds 200] [--repeat 50] [--profile 0]
"""

import argparse
import base64
import cProfile
import html
import io
import json
import pstats
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import percentile_ms, start_django, state_systems_on_loopback

start_django("mojeid_bench_nia_signin")

import requests
from django.conf import settings
from django.db import connection

RATIO_TARGET = 2
PASSWORD = "kun-upel-ody-2026"  # the bench account's, in a scratch database
SERVICE_ENTITY = "https://sep.test/metadata/"
SERVICE_ACS = "https://sep.test/acs/"
SERVICE_REQUEST = {"https": "on", "http_host": "sep.test", "script_name": "/acs/", "post_data": {}}
LOA_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
FORM = re.compile(r"<form[\s\S]*?</form>")
FORM_ACTION = re.compile(r'<form[^>]+action="(?P<action>[^"]*)"')
FORM_FIELD = re.compile(r'<input type="hidden" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)"')
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
WARM_UP = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=50, help="repetitions of each crypto step")
    parser.add_argument("--profile", type=int, default=0, help="profile this many more rounds")
    args = parser.parse_args()

    profiler = ServerProfiler() if args.profile else None
    with tempfile.TemporaryDirectory() as scratch:
        if profiler:
            profiler.install()
        with state_systems_on_loopback() as url:
            world = prepare(url, Path(scratch))
            try:
                sign_in_once(world)
                for _ in range(WARM_UP):
                    world.round()
                samples = []
                for _ in range(args.rounds):
                    begin = time.perf_counter()
                    world.round()
                    samples.append(time.perf_counter() - begin)
                parts = measure_crypto(world, args.repeat)
                if profiler:
                    profile_rounds(world, profiler, args.profile)
            finally:
                world.browser.close()
                wait_for_server_connections()
    p50 = percentile_ms(samples, 0.5, digits=2)
    crypto = round(sum(parts.values()), 2)
    print(
        json.dumps(
            {
                "rounds": len(samples),
                "database": connection.vendor,
                "roundtrip_p50_ms": p50,
                "roundtrip_p95_ms": percentile_ms(samples, 0.95, digits=2),
                "crypto_ms": crypto,
                "crypto_parts_ms": parts,
                "ratio": round(p50 / crypto, 3),
                "ratio_target": RATIO_TARGET,
            }
        )
    )


# --- The world: NIA, the portal registered there, a service, a linked citizen ---------------


@dataclass
class Captured:
    """The last round's messages, for the bare cryptography on the same documents."""

    service_url: str = ""
    service_request_id: str = ""
    nia_request: dict = field(default_factory=dict)
    portal_answer: dict = field(default_factory=dict)
    nia_answer: str = ""


@dataclass
class World:
    url: str
    browser: requests.Session
    service_settings: object  # OneLogin_Saml2_Settings of the service
    service_key_file: Path
    service_cert_file: Path
    portal_cert_file: Path
    mojeid_pk: int
    key: object  # idp_world.Key
    captured: Captured = field(default_factory=Captured)

    # The service.
    def service_request(self) -> tuple[str, str]:
        from onelogin.saml2.auth import OneLogin_Saml2_Auth

        auth = OneLogin_Saml2_Auth(
            {"https": "on", "http_host": "sep.test", "script_name": "/", "get_data": {}},
            old_settings=self.service_settings,
        )
        url = auth.login()
        return url, auth.get_last_request_id()

    def service_reads(self, saml_response: str, request_id: str):
        from onelogin.saml2.response import OneLogin_Saml2_Response

        response = OneLogin_Saml2_Response(self.service_settings, saml_response)
        response.is_valid(SERVICE_REQUEST, request_id=request_id, raise_exceptions=True)
        return response

    # The browser's hops up to the portal's sign-in page.
    def to_portal(self) -> requests.Response:
        service_url, request_id = self.service_request()
        choice = self.get(service_url)  # NIA's SSO → the choice page
        action, fields = form(choice.text, lambda a, f: a.endswith(f"/provider/{self.mojeid_pk}/"))
        to_provider = self.post(action, fields, base=choice.url)
        sso, nia_request = form(to_provider.text, lambda a, f: "SAMLRequest" in f)
        self.captured.service_url, self.captured.service_request_id = service_url, request_id
        self.captured.nia_request = nia_request
        return self.post(sso, nia_request, base=to_provider.url)  # → the sign-in page

    # From the portal's answer back to the service.
    def to_service(self, sign_in_page: requests.Response):
        acs, answer = form(sign_in_page.text, lambda a, f: "SAMLResponse" in f)
        consent = self.post(acs, answer, base=sign_in_page.url)  # → NIA's consent page
        assert consent.url.endswith("/consent/"), consent.text[:2000]
        _, fields = form(consent.text, lambda a, f: "csrfmiddlewaretoken" in f)
        to_service = self.post(consent.url, {**fields, "decision": "consent"})
        action, nia_answer = form(to_service.text, lambda a, f: "SAMLResponse" in f)
        assert action == SERVICE_ACS, action
        self.captured.portal_answer, self.captured.nia_answer = answer, nia_answer["SAMLResponse"]
        return self.service_reads(nia_answer["SAMLResponse"], self.captured.service_request_id)

    def round(self):
        response = self.to_service(self.to_portal())
        assert response.get_authn_contexts() == [LOA_SUBSTANTIAL]
        return response

    # HTTP.
    def get(self, address: str) -> requests.Response:
        response = self.browser.get(address, timeout=30)
        assert response.status_code == 200, (response.status_code, response.text[:2000])
        return response

    def post(self, action: str, data: dict, *, base: str = "") -> requests.Response:
        address = requests.compat.urljoin(base or self.url, action)
        response = self.browser.post(address, data=data, timeout=30)
        assert response.status_code == 200, (response.status_code, response.text[:2000])
        return response

    def post_json(self, path: str, body: dict) -> dict:
        response = self.browser.post(
            self.url + path,
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": self.browser.cookies["csrftoken"],
            },
            timeout=30,
        )
        assert response.status_code == 200, (response.status_code, response.text[:2000])
        return response.json()


def form(page: str, wanted) -> tuple[str, dict[str, str]]:
    """(action, hidden fields) of the page's first form for which `wanted(action, fields)`."""
    for found in FORM.findall(page):
        fields = {m["name"]: html.unescape(m["value"]) for m in FORM_FIELD.finditer(found)}
        action = FORM_ACTION.search(found)
        action = html.unescape(action["action"]) if action else ""
        if wanted(action, fields):
            return action, fields
    raise AssertionError(page[:3000])


def prepare(url: str, scratch: Path) -> World:
    """NIA seeded with the portal's metadata, the service registered at NIA, an account with a
    software key linked to a citizen (both sides), as `nia_link/tests/idp_world.py` sets up."""
    from django.core.cache import cache
    from django.utils import timezone
    from onelogin.saml2.constants import OneLogin_Saml2_Constants
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    from accounts.models import Profile, User
    from govsim.nia import keys as nia_keys
    from govsim.nia import seed as nia_seed
    from govsim.nia.idp import service_provider_metadata
    from govsim.nia.models import ServiceProvider
    from nia_link.clients import saml
    from nia_link.internal import keys
    from nia_link.tests.idp_world import add_key, citizen_jana, link, metadata_for_keys

    settings.VAR_DIR = scratch  # the development key pairs of NIA and the portal, made here
    settings.PORTAL_URL = url
    settings.NIA_SAML_METADATA_URL = f"{url}/sim/nia/saml/metadata/"
    settings.NIA_SAML_BROKER_METADATA_URL = f"{url}/sim/nia/saml/broker/metadata/"
    settings.NIA_IDP_FRESH_SECONDS = 3600
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False
    # Persistent database connections, as the deployment's settings have them (the test settings
    # turn them off for the live server); the browser's keep-alive connection keeps its server
    # thread, which closes them when that connection closes.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # NIA's metadata as an earlier run cached it names that run's address.
    cache.delete_many([saml.METADATA_CACHE_KEY, saml.REQUESTER_CACHE_KEY])
    nia_seed.seed(url, portal_metadata=saml.service_provider_metadata())
    mojeid = ServiceProvider.objects.get(entity_id=saml.entity_id())

    key_pem, cert_pem = nia_keys.make_key_pair("Service (bench)")
    ServiceProvider.objects.create(
        entity_id=SERVICE_ENTITY,
        name="Portál občana (bench)",
        metadata_xml=service_provider_metadata(SERVICE_ENTITY, SERVICE_ACS, cert_pem.decode()),
        encrypt_assertions=True,
    )
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    nia_metadata = browser.get(settings.NIA_SAML_METADATA_URL, timeout=30).text
    service_settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": SERVICE_ENTITY,
                "assertionConsumerService": {
                    "url": SERVICE_ACS,
                    "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
                },
                "x509cert": cert_pem.decode(),
                "privateKey": key_pem.decode(),
            },
            "idp": OneLogin_Saml2_IdPMetadataParser.parse(nia_metadata)["idp"],
            "security": {
                "authnRequestsSigned": True,
                "wantAssertionsEncrypted": True,
                "wantAssertionsSigned": True,
                "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
                "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
                "requestedAuthnContext": [LOA_SUBSTANTIAL],
                "requestedAuthnContextComparison": "minimum",
            },
        }
    )
    files = {}
    for name, pem in (
        ("service-key.pem", key_pem.decode()),
        ("service-cert.pem", cert_pem.decode()),
        ("portal-cert.pem", keys.service_provider_pair().cert_pem),
    ):
        files[name] = scratch / name
        files[name].write_text(pem, encoding="ascii")

    metadata_for_keys()
    user = User.objects.create_user(
        "jana",
        PASSWORD,
        email="jana@example.cz",
        phone="+420601123456",
        first_name="Jana",
        last_name="Nováková",
        language="en",
    )
    now = timezone.now()
    Profile.objects.filter(pk=user.pk).update(email_confirmed_at=now, phone_confirmed_at=now)
    key = add_key(user)
    link(user, citizen_jana(), mojeid, keys=[key.stored])
    return World(
        url=url,
        browser=browser,
        service_settings=service_settings,
        service_key_file=files["service-key.pem"],
        service_cert_file=files["service-cert.pem"],
        portal_cert_file=files["portal-cert.pem"],
        mojeid_pk=mojeid.pk,
        key=key,
    )


def sign_in_once(world: World) -> None:
    """The one round with the human steps: the password and the key on the sign-in page."""
    password_page = world.to_portal()
    _, fields = form(password_page.text, lambda a, f: "csrfmiddlewaretoken" in f)
    factor_page = world.post(
        password_page.url, {**fields, "login": "jana", "password": PASSWORD}
    )  # → the sign-in page again, now asking for the key
    token = factor_page.url.rstrip("/").rsplit("/", 1)[-1]
    options = world.post_json(f"/nia/idp/signin/{token}/key/options/", {})
    challenge = options["publicKey"]["challenge"]
    assertion = world.key.soft.authenticate(
        world.key.credential_id,
        challenge=base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)),
        origin=world.key.origin,
        rp_id=world.key.rp_id,
        user_verified=True,
    )
    verified = world.post_json(f"/nia/idp/signin/{token}/key/verify/", {"credential": assertion})
    answer_page = world.get(world.url + verified["redirect"])
    response = world.to_service(answer_page)
    assert response.get_authn_contexts() == [LOA_SUBSTANTIAL]


def wait_for_server_connections(seconds: float = 10) -> None:
    """Wait until the server's threads have closed their database connections (the browser has
    closed its own), so that the scratch database can be dropped."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if not cursor.fetchone()[0]:
                return
        time.sleep(0.05)


# --- The bare cryptography ----------------------------------------------------------------------


def measure_crypto(world: World, repeat: int) -> dict[str, float]:
    """The median milliseconds of each cryptographic step of a round, on the last round's
    documents (see the module's docstring)."""
    from lxml import etree
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    from onelogin.saml2.utils import OneLogin_Saml2_Utils

    from govsim.nia import keys as nia_keys
    from govsim.nia.crypto import XmlsecBindingBackend
    from nia_link.clients import saml
    from nia_link.internal import keys, saml_idp
    from nia_link.models import Registration

    backend = XmlsecBindingBackend()
    captured = world.captured
    nia_key_file = str(nia_keys.signing_key_pair().key_file)
    portal_pair = keys.service_provider_pair()
    requester = saml.nia_as_requester()
    registration = Registration.objects.get()

    # The service's request: the query python3-saml signs.
    query = dict(part.split("=", 1) for part in captured.service_url.split("?", 1)[1].split("&"))
    parameters = {
        "SAMLRequest": requests.utils.unquote(query["SAMLRequest"]),
        "RelayState": requests.utils.unquote(query.get("RelayState", "")),
    }
    service_auth = OneLogin_Saml2_Auth(
        {"https": "on", "http_host": "sep.test", "script_name": "/", "get_data": {}},
        old_settings=world.service_settings,
    )

    # NIA's request to MojeID, signed (what the portal verifies) and as a template (what is signed).
    nia_request = base64.b64decode(captured.nia_request["SAMLRequest"])
    request_template = _blank_signatures(nia_request)
    request_id = etree.fromstring(nia_request).get("ID")
    received = saml_idp.receive(
        captured.nia_request["SAMLRequest"],
        saml_idp.BINDING_POST,
        relay_state=captured.nia_request.get("RelayState", ""),
        query="",
    )
    parsed = saml_idp.read_authn_request(received, requester=requester, sso_url=saml.idp_sso_url())
    nia_cert = saml_idp._pem(requester.signing_certificates[0])

    # The portal's answer as NIA reads it.
    portal_answer = base64.b64decode(captured.portal_answer["SAMLResponse"]).decode()
    portal_response_id = etree.fromstring(portal_answer.encode()).get("ID")
    decrypted = backend.decrypt(portal_answer, nia_key_file)
    portal_assertion_id = (
        etree.fromstring(decrypted.encode()).find(f".//{{{SAML}}}Assertion").get("ID")
    )

    # NIA's answer to the service: decrypted (as it was before encryption), signatures blanked.
    nia_answer = backend.decrypt(
        base64.b64decode(captured.nia_answer).decode(), str(world.service_key_file)
    )
    answer_template = _blank_signatures(nia_answer.encode())
    answer_root = etree.fromstring(answer_template.encode())
    answer_id = answer_root.get("ID")
    answer_assertion_id = answer_root.find(f".//{{{SAML}}}Assertion").get("ID")

    def sign_service_request():
        signed = dict(parameters)
        service_auth.add_request_signature(signed, saml_idp.C.RSA_SHA256)
        assert signed["Signature"]

    def sign_nia_request():
        backend.sign_statement(request_template, f"{SAMLP}:AuthnRequest", nia_key_file, request_id)

    def verify_nia_request():
        assert OneLogin_Saml2_Utils.validate_sign(
            nia_request, nia_cert, xpath="/samlp:AuthnRequest/ds:Signature"
        )

    def portal_answers():
        saml_idp.success_response(
            parsed,
            requester,
            issuer=saml.entity_id(),
            bsi=registration.link.bsi,
            level="substantial",
            authenticator=registration.identifier,
            key_pem=portal_pair.key_pem,
            cert_pem=portal_pair.cert_pem,
        )

    def nia_reads_answer():
        cert = str(world.portal_cert_file)
        response = f"{SAMLP}:Response"
        assert backend.validate_signature(portal_answer, cert, "pem", response, portal_response_id)
        plain = backend.decrypt(portal_answer, nia_key_file)
        assertion = f"{SAML}:Assertion"
        assert backend.validate_signature(plain, cert, "pem", assertion, portal_assertion_id)

    def nia_answers() -> str:
        signed = backend.sign_statement(
            answer_template, f"{SAML}:Assertion", nia_key_file, answer_assertion_id
        )
        encrypted = backend.encrypt_assertion(signed, str(world.service_cert_file))
        return backend.sign_statement(encrypted, f"{SAMLP}:Response", nia_key_file, answer_id)

    def service_reads():
        world.service_reads(captured.nia_answer, captured.service_request_id)

    # The re-made answer is one the service accepts: the same work as NIA's own.
    rebuilt = base64.b64encode(nia_answers().encode()).decode()
    world.service_reads(rebuilt, captured.service_request_id)

    steps = {
        "service_signs_request": sign_service_request,
        "nia_signs_request": sign_nia_request,
        "portal_verifies_request": verify_nia_request,
        "portal_answers": portal_answers,
        "nia_reads_answer": nia_reads_answer,
        "nia_answers_service": nia_answers,
        "service_reads_answer": service_reads,
    }
    medians = {}
    for name, step in steps.items():
        step()
        samples = []
        for _ in range(repeat):
            begin = time.perf_counter()
            step()
            samples.append(time.perf_counter() - begin)
        medians[name] = round(statistics.median(samples) * 1000, 3)
    return medians


def _blank_signatures(xml: bytes) -> str:
    """The document with its signatures' digests and values emptied: a signing template."""
    from lxml import etree

    root = etree.fromstring(xml)
    for name in ("DigestValue", "SignatureValue"):
        for node in root.iter(f"{{{DS}}}{name}"):
            node.text = ""
    return etree.tostring(root, encoding="unicode")


# --- Profiling ---------------------------------------------------------------------------------


class ServerProfiler:
    """cProfile of the server's requests (each is served in a thread of its own, one at a time
    here: the browser waits for each answer)."""

    def __init__(self):
        self.profile = cProfile.Profile()
        self.enabled = False

    def install(self) -> None:
        import django.core.wsgi

        original = django.core.wsgi.get_wsgi_application

        def profiled_application():
            application = original()

            def app(environ, start_response):
                if not self.enabled:
                    return application(environ, start_response)
                self.profile.enable()
                try:
                    response = application(environ, start_response)
                    try:
                        return list(response)
                    finally:
                        response.close()  # request_finished: the connection is closed
                finally:
                    self.profile.disable()

            return app

        django.core.wsgi.get_wsgi_application = profiled_application


def profile_rounds(world: World, profiler: ServerProfiler, rounds: int) -> None:
    browser_side = cProfile.Profile()
    profiler.enabled = True
    begin = time.perf_counter()
    browser_side.enable()
    for _ in range(rounds):
        world.round()
    browser_side.disable()
    seconds = time.perf_counter() - begin
    profiler.enabled = False
    print(f"--- {rounds} rounds in {seconds * 1000:.0f} ms", file=sys.stderr)
    for title, profile in (("server", profiler.profile), ("browser and service", browser_side)):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        print(f"--- {title} ---\n{out.getvalue()}", file=sys.stderr)


if __name__ == "__main__":
    main()
