"""An attacker's view of the certificate upload: the timestamp authority's address is called by the server, so
a school administrator must not point it at the server's own services or the cloud's metadata (SSRF), through
the service, the page and the API; a stored address that turned private is not called."""

from __future__ import annotations

import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classbook.core.errors import DomainError
from classbook.signing import services
from classbook.signing.models import SigningCertificate
from tests.signing.conftest import PASSWORD

API = "/api/v1/schools/{school}/signing/certificate"
INTERNAL = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:6379/",
    "http://localhost:5432/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.5/tsp",
    "http://0.0.0.0/",
    "https://tsa.internal/",
    "http://user:pw@tsa.example.org/",
]


def _upload(world, certs, tsa_url):
    return services.upload_certificate(
        acting_user=world.admin, school=world.school, data=certs.leaf.p12, password=PASSWORD, tsa_url=tsa_url
    )


@pytest.mark.parametrize("url", INTERNAL)
def test_the_timestamp_authority_cannot_be_an_internal_address(world, certs, url):
    with pytest.raises(DomainError) as refused:
        _upload(world, certs, url)
    assert refused.value.field == "tsa_url"
    assert not SigningCertificate.objects.exists()


def test_a_name_resolving_to_an_internal_address_is_refused(world, certs, monkeypatch):
    def resolves_privately(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolves_privately)
    with pytest.raises(DomainError):
        _upload(world, certs, "http://tsa.attacker.example/")
    assert not SigningCertificate.objects.exists()


def test_a_public_timestamp_authority_over_http_is_kept(world, certs, monkeypatch):
    def resolves_publicly(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolves_publicly)
    assert _upload(world, certs, "http://acskidd.gov.ua/services/tsp/").tsa_url == "http://acskidd.gov.ua/services/tsp/"


def test_a_stored_address_that_now_resolves_privately_is_not_called(world, certs, monkeypatch, settings):
    settings.SIGNING_TSA_URL = ""
    cert = _upload(world, certs, "")
    SigningCertificate.objects.filter(pk=cert.pk).update(tsa_url="http://169.254.169.254/")
    signer = services.pkcs12_signer(world.school)
    assert signer is not None and signer.tsa_url == ""


def test_the_page_and_the_api_refuse_an_internal_address(world, certs, as_user):
    client = as_user(world.admin)
    page = reverse("signing:certificate", kwargs={"school": world.school.slug})
    upload = {"action": "upload", "password": PASSWORD, "tsa_url": "http://127.0.0.1:6379/"}
    response = client.post(page, {**upload, "file": SimpleUploadedFile("s.p12", certs.leaf.p12)})
    assert response.status_code == 422
    api = client.post(
        API.format(school=world.school.slug),
        {"file": SimpleUploadedFile("s.p12", certs.leaf.p12), "password": PASSWORD, "tsa_url": "http://10.1.2.3/"},
    )
    assert api.status_code == 422
    assert api.json()["error"]["fields"].keys() == {"tsa_url"}
    assert not SigningCertificate.objects.exists()


def _with_mac_iterations(p12: bytes, count: int) -> bytes:
    from asn1crypto import pkcs12 as asn1_pkcs12

    pfx = asn1_pkcs12.Pfx.load(p12)
    pfx["mac_data"]["iterations"] = count
    return pfx.dump(force=True)


def test_a_file_asking_for_billions_of_key_derivation_rounds_is_refused_before_the_password(world, certs):
    hostile = _with_mac_iterations(certs.leaf.p12, 2**31 - 1)
    with pytest.raises(DomainError) as refused:
        services.upload_certificate(acting_user=world.admin, school=world.school, data=hostile, password=PASSWORD)
    assert refused.value.code == "not_pkcs12"
    assert not SigningCertificate.objects.exists()
