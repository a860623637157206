"""The school's certificate: every bad file refused with its own error and nothing stored, the file and
password encrypted at rest (and still readable after a key rotation), replacement keeping the history, the
audit trail without the password, and who may manage it through the page and the API (the same people)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from classbook.core.errors import PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.signing import keystore, services
from classbook.signing.certificates import CertificateError, read_pkcs12
from classbook.signing.models import SigningCertificate
from tests.signing.conftest import PASSWORD

API = "/api/v1/schools/{school}/signing/certificate"
OTHERS = ["deputy", "secretary", "teacher", "class_teacher", "student", "parent", "viewer"]
PAGE = [
    ("admin", 200),
    ("director", 200),
    *[(p, 403) for p in OTHERS],
    ("foreign_admin", 404),  # another school's administrator: not even the school's existence
    ("foreign_student", 404),
    ("anonymous", 302),  # to the login page
]
API_TABLE = [*PAGE[:-1], ("anonymous", 401)]


def _upload(world, certs, user=None, p12=None, password=PASSWORD):
    return services.upload_certificate(
        acting_user=user or world.admin, school=world.school, data=p12 or certs.leaf.p12, password=password
    )


def _cert_only(certs) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"x", None, certs.leaf.cert, None, serialization.BestAvailableEncryption(PASSWORD.encode())
    )


def test_every_bad_file_is_refused_with_its_own_error(certs, settings, pdfa):
    cases = [
        (b"", PASSWORD, "not_pkcs12", "This is not a PKCS#12 file"),
        (pdfa, PASSWORD, "not_pkcs12", "This is not a PKCS#12 file"),
        (certs.leaf.p12[:200], PASSWORD, "not_pkcs12", "This is not a PKCS#12 file"),
        (certs.leaf.p12, "wrong", "wrong_password", "The password does not open"),
        (certs.leaf.p12, "", "wrong_password", "The password does not open"),
        (_cert_only(certs), PASSWORD, "no_private_key", "holds no private key"),
        (certs.expired.p12, PASSWORD, "expired", "The certificate expired on"),
        (certs.not_yet_valid.p12, PASSWORD, "not_yet_valid", "is not valid yet"),
        (certs.no_signing.p12, PASSWORD, "key_usage", "does not allow its key to sign"),
        (b"0" * (settings.SIGNING_MAX_UPLOAD_BYTES + 1), PASSWORD, "file_too_large", "too large"),
    ]
    for data, password, code, text in cases:
        with pytest.raises(CertificateError) as err:
            read_pkcs12(data, password)
        assert (err.value.code, text in str(err.value.message)) == (code, True), (code, str(err.value.message))
    info = read_pkcs12(certs.leaf.p12, PASSWORD)
    assert info.subject == "C=UA,CN=Школа 1" and info.issuer == "C=UA,CN=Test CA"
    assert (
        info.fingerprint
        == certs.leaf.cert.fingerprint(__import__("cryptography").hazmat.primitives.hashes.SHA256()).hex()
    )
    assert info.chain_pem.count("BEGIN CERTIFICATE") == 2


def test_the_file_and_password_are_encrypted_at_rest_and_survive_a_key_rotation(world, certs, settings, pdfa):
    cert = _upload(world, certs)
    row = SigningCertificate.objects.get(pk=cert.pk)
    stored = bytes(row.pkcs12_encrypted) + bytes(row.password_encrypted)
    assert certs.leaf.p12[:64] not in stored and PASSWORD.encode() not in stored
    assert keystore.decrypt(row.password_encrypted) == PASSWORD.encode()

    settings.SIGNING_KEY_FALLBACKS = [settings.SIGNING_KEY or settings.SECRET_KEY]
    settings.SIGNING_KEY = "a-new-signing-key"
    assert services.sign_pdf(world.school, pdfa, reason="x") is not None  # the old key still decrypts
    call_command("signing_rotate_key", stdout=__import__("io").StringIO())
    settings.SIGNING_KEY_FALLBACKS = []
    assert services.sign_pdf(world.school, pdfa, reason="x") is not None  # re-encrypted with the new key
    settings.SIGNING_KEY = "yet-another-key"
    with pytest.raises(services.SigningFailed, match="cannot be decrypted"):
        services.sign_pdf(world.school, pdfa, reason="x")


def test_a_replacement_keeps_the_history_and_every_change_is_audited_without_the_password(world, certs, pdfa):
    first = _upload(world, certs)
    second = _upload(world, certs, user=world.director, p12=certs.other.p12)
    first.refresh_from_db()
    assert (first.is_active, first.retired_by, second.is_active) == (False, world.director, True)
    # An archive signed with the retired certificate is still the school's own.
    from classbook.signing.signers import Pkcs12Signer

    old_archive = Pkcs12Signer(certs.leaf.p12, PASSWORD).sign(pdfa, reason="x", location="y").content
    assert services.verify_pdf(old_archive, school=world.school).trusted
    services.remove_certificate(acting_user=world.admin, school=world.school)
    assert services.sign_pdf(world.school, pdfa, reason="x") is None
    assert not SigningCertificate.objects.filter(is_active=True).exists()
    assert SigningCertificate.objects.filter(school=world.school).count() == 2

    entries = list(AuditEntry.objects.filter(action__startswith="signing.").order_by("at", "id"))
    assert [e.action for e in entries] == [
        "signing.certificate.uploaded",
        "signing.certificate.replaced",
        "signing.certificate.removed",
    ]
    assert entries[1].data["old"]["fingerprint"] == first.fingerprint
    assert entries[1].data["new"]["subject"] == "C=UA,CN=Школа 2"
    assert all(PASSWORD not in str(e.data) for e in entries)


def test_an_expired_stored_certificate_no_longer_signs(world, certs, pdfa, time_machine):
    cert = _upload(world, certs)
    time_machine.move_to(cert.valid_until + dt.timedelta(minutes=1))
    assert services.sign_pdf(world.school, pdfa, reason="x") is None


@pytest.mark.parametrize("persona", ["deputy", "teacher", "parent", "foreign_admin", "viewer"])
def test_the_services_refuse_everyone_but_the_administrators_and_director(world, certs, persona):
    with pytest.raises(PermissionDeniedError):
        _upload(world, certs, user=world.persona(persona))
    assert not SigningCertificate.objects.exists()
    _upload(world, certs)
    with pytest.raises(PermissionDeniedError):
        services.remove_certificate(acting_user=world.persona(persona), school=world.school)
    assert SigningCertificate.objects.get().is_active


@pytest.mark.parametrize(("persona", "status"), PAGE)
def test_the_page_opens_only_for_administrators_and_director(world, as_user, persona, status):
    client = as_user(world.persona(persona))
    assert client.get(reverse("signing:certificate", kwargs={"school": world.school.slug})).status_code == status


@pytest.mark.parametrize(("persona", "status"), API_TABLE)
def test_the_api_refuses_the_same_people_and_a_refused_write_changes_nothing(world, certs, as_user, persona, status):
    _upload(world, certs)
    before = (SigningCertificate.objects.filter(is_active=True).get().pk, AuditEntry.objects.count())
    client = as_user(world.persona(persona))
    base = API.format(school=world.school.slug)
    assert client.get(base).status_code == status
    assert client.get(base + "s").status_code == status
    upload = {"file": SimpleUploadedFile("s.p12", certs.other.p12), "password": PASSWORD}
    assert client.post(base, upload).status_code == (201 if status == 200 else status)
    if status != 200:
        assert client.delete(base).status_code == status
        page = reverse("signing:certificate", kwargs={"school": world.school.slug})
        assert client.post(page, {"action": "remove"}).status_code == (302 if persona == "anonymous" else status)
        assert (SigningCertificate.objects.filter(is_active=True).get().pk, AuditEntry.objects.count()) == before


def test_the_api_answers_metadata_errors_and_history(world, certs, as_user, django_assert_max_num_queries):
    client = as_user(world.director)
    base = API.format(school=world.school.slug)
    assert client.get(base).json()["error"]["code"] == "not_found"
    bad = client.post(base, {"file": SimpleUploadedFile("s.p12", certs.leaf.p12), "password": "nope"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "wrong_password" and "password" in bad.json()["error"]["fields"]
    assert (
        client.post(base, {"file": SimpleUploadedFile("x.p12", certs.expired.p12), "password": PASSWORD}).json()[
            "error"
        ]["code"]
        == "expired"
    )
    made = client.post(base, {"file": SimpleUploadedFile("s.p12", certs.leaf.p12), "password": PASSWORD})
    assert made.status_code == 201
    body = made.json()
    assert body["subject"] == "C=UA,CN=Школа 1" and body["is_active"] and not body["expires_soon"]
    assert "pkcs12_encrypted" not in body and "password" not in body
    for p12 in (certs.other.p12, certs.leaf.p12):
        client.post(base, {"file": SimpleUploadedFile("s.p12", p12), "password": PASSWORD})
    with django_assert_max_num_queries(6):
        listed = client.get(base + "s?limit=2").json()
    assert listed["count"] == 3 and len(listed["items"]) == 2
    # Another school's administrator sees none of it through their own school.
    theirs = as_user(world.foreign_admin).get(API.format(school=world.other_school.slug) + "s").json()
    assert theirs["count"] == 0
    assert client.delete(base).status_code == 204
    assert client.delete(base).json()["error"]["code"] == "not_found"


def test_the_page_uploads_with_htmx_shows_errors_and_warns_before_expiry(
    world, certs, as_user, django_assert_max_num_queries
):
    client = as_user(world.admin)
    url = reverse("signing:certificate", kwargs={"school": world.school.slug})
    htmx = {"HTTP_HX_REQUEST": "true"}
    wrong = client.post(
        url, {"action": "upload", "file": SimpleUploadedFile("s.p12", certs.leaf.p12), "password": "x"}, **htmx
    )
    assert wrong.status_code == 200 and "The password does not open this certificate file." in wrong.text
    assert not SigningCertificate.objects.exists()
    ok = client.post(
        url, {"action": "upload", "file": SimpleUploadedFile("s.p12", certs.leaf.p12), "password": PASSWORD}, **htmx
    )
    assert 'id="signing-certificate"' in ok.text and "<html" not in ok.text
    assert "Школа 1" in ok.text and "expires in" not in ok.text
    for _ in range(3):
        _upload(world, certs, p12=certs.other.p12)
    with django_assert_max_num_queries(8):
        page = client.get(url)
    assert page.status_code == 200 and page.text.count("Школа") == 4  # the active one and 3 earlier ones
    _upload(world, certs, p12=certs.soon.p12)
    assert "The certificate expires in 10 days" in client.get(url).text
    SigningCertificate.objects.filter(is_active=True).update(valid_until=timezone.now() - dt.timedelta(days=1))
    assert "The certificate is not valid now" in client.get(url).text
    no_file = client.post(url, {"action": "upload", "password": PASSWORD})
    assert no_file.status_code == 422
