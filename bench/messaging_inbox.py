"""Benchmark the messaging pages for a busy class teacher (docs/performance.md, docs/messaging.md).

Run from the repository root:

    .venv/bin/python bench/messaging_inbox.py             # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/messaging_inbox.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_messaging``.
Options: --families 2000 --messages 4 --others 20000 --calls 30.

The school has ``--others`` conversations that do not concern the measured teacher (other teachers'
mail), and the teacher has one conversation with each of ``--families`` parents, ``--messages`` messages
each. Measured through the test client (session, school context, query, template): the unread counter
fragment, the inbox's first and last page, one conversation page; median and min of ``--calls`` calls.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_messaging")

from django.db import connection  # noqa: E402


def build(families: int, messages: int, others: int) -> dict:
    from classbook.messaging.models import Conversation, Message, Participant, ParticipantKind
    from classbook.people.models import GuardianLink, Membership, Role, User
    from tests import factories as f

    school = f.SchoolFactory(slug="bench", name="Bench lyceum")
    year = f.YearFactory(school=school)
    klass = f.SchoolClassFactory(year=year, name="5-А")
    teacher = f.make_member(school, Role.TEACHER, username="bench-teacher")
    klass.class_teacher = teacher
    klass.save()
    colleague = f.make_member(school, Role.TEACHER, username="bench-colleague")
    student = f.make_student(klass)
    hashed = f.password_hash()
    parents = User.objects.bulk_create(
        [User(username=f"bench-p{i}", last_name=f"Батько{i}", password=hashed) for i in range(families)],
        batch_size=1000,
    )
    Membership.objects.bulk_create([Membership(school=school, user=p, role=Role.PARENT) for p in parents], 1000)
    GuardianLink.objects.bulk_create([GuardianLink(school=school, guardian=p, student=student) for p in parents], 1000)

    def threads(pairs):
        convs = Conversation.objects.bulk_create(
            [
                Conversation(school=school, subject=f"Питання {i}", student=student, created_by=p)
                for i, (p, _t) in enumerate(pairs)
            ],
            batch_size=1000,
        )
        rows = []
        for conv, (p, t) in zip(convs, pairs, strict=True):
            for k in range(messages):
                sender, kind = (p, ParticipantKind.GUARDIAN) if k % 2 == 0 else (t, ParticipantKind.STAFF)
                rows.append(
                    Message(school=school, conversation=conv, sender=sender, sender_kind=kind, body="Текст " * 20)
                )
        msgs = Message.objects.bulk_create(rows, batch_size=2000)
        last = {m.conversation_id: m for m in msgs}
        for conv in convs:
            conv.last_message = last[conv.pk]
            conv.last_message_at = last[conv.pk].created_at
        Conversation.objects.bulk_update(convs, ["last_message", "last_message_at"], batch_size=1000)
        parts = []
        for i, (conv, (p, t)) in enumerate(zip(convs, pairs, strict=True)):
            read = last[conv.pk].pk if i % 3 else 0  # a third unread
            latest = {"latest_message_id": last[conv.pk].pk, "latest_message_at": last[conv.pk].created_at}
            parts.append(Participant(school=school, conversation=conv, user=p, kind=ParticipantKind.GUARDIAN, **latest))
            parts.append(
                Participant(
                    school=school, conversation=conv, user=t, kind=ParticipantKind.STAFF, last_read_id=read, **latest
                )
            )
        Participant.objects.bulk_create(parts, batch_size=2000)
        return convs

    mine = threads([(p, teacher) for p in parents])
    threads([(parents[i % len(parents)], colleague) for i in range(others)])
    return {"school": school, "teacher": teacher, "conversation": mine[len(mine) // 2]}


def timed(client, url: str, calls: int) -> tuple[float, float, int]:
    client.get(url)
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples), min(samples), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=4)
    parser.add_argument("--others", type=int, default=20000)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()

    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        t0 = time.perf_counter()
        data = build(args.families, args.messages, args.others)
        print(
            f"database: {connection.vendor}; built in {time.perf_counter() - t0:.1f} s; "
            f"{args.families} conversations of the teacher, {args.others} others, {args.messages} messages each"
        )
        client = Client()
        client.force_login(data["teacher"])
        slug = data["school"].slug
        pages = (args.families + 24) // 25
        for label, url in [
            ("unread counter", f"/s/{slug}/messages/unread/"),
            ("inbox, first page", f"/s/{slug}/messages/"),
            (f"inbox, page {pages}", f"/s/{slug}/messages/?page={pages}"),
            ("conversation", f"/s/{slug}/messages/{data['conversation'].pk}/"),
            ("unanswered", f"/s/{slug}/messages/unanswered/"),
        ]:
            median, best, size = timed(client, url, args.calls)
            print(f"{label:20} median {median:7.1f} ms   min {best:7.1f} ms   {size:7d} bytes")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
