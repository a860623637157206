"""How long signing and verifying an archive PDF take (issue 12): a WeasyPrint PDF/A-3b of ``--rows`` table
rows (about 40 rows a page), signed PAdES-B-B with a test certificate and verified offline, ``--runs`` times.

    .venv/bin/python bench/signing.py --rows 600 --runs 3

No database: the signer and the validator are timed alone (``sign_pdf`` adds one query and a decryption).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

from _bootstrap import ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import os
    import sys

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classbook.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()
    from weasyprint import HTML

    from classbook.signing.signers import Pkcs12Signer
    from classbook.signing.verification import check_pdf
    from tests.signing.conftest import PASSWORD, make_certs

    certs = make_certs()
    rows = "".join(f"<tr><td>{i}</td>" + "<td>12</td>" * 30 + "</tr>" for i in range(args.rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = HTML(string=f"<table>{rows}</table>").write_pdf(pdf_variant="pdf/a-3b")
    signer = Pkcs12Signer(certs.leaf.p12, PASSWORD)
    signing, verifying = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        signed = signer.sign(pdf, reason="bench", location="bench").content
        signing.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = check_pdf(signed, lambda _cert: [certs.ca.asn1_cert()])
        verifying.append(time.perf_counter() - start)
        assert report.ok, report.problem
    print(
        f"PDF {len(pdf) / 1e6:.2f} MB: sign median {statistics.median(signing) * 1000:.0f} ms, "
        f"verify median {statistics.median(verifying) * 1000:.0f} ms ({args.runs} runs)"
    )


if __name__ == "__main__":
    main()
