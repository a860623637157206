"""Benchmark the audit log page's queries on a million audit entries (docs/performance.md, docs/audit.md).

Run from the repository root:

    .venv/bin/python bench/audit_log.py                    # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/audit_log.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_audit``.
Options: --rows 1000000 --calls 30 --seed 7.

The log holds ``--rows`` entries over three years in three schools of different sizes (a large one with
most of the entries, a middle one, a small one), a few hundred actors, 40 actions; a sixth of the rows
have no school (logins of the schools' people, as ``credentials.record_login`` writes them). Rows are
bulk-inserted with plain SQL (COPY on PostgreSQL), then ANALYZEd. For each filter the script times
``classbook.audit.queries.audit_page`` (the page's two queries, rows, labels) and a raw-SQL floor: the
same rows and columns by one hand-written ``SELECT ... ORDER BY at DESC, id DESC LIMIT 51`` per branch
through the database cursor. It prints median and min of ``--calls`` calls (ms), the page's minimum CPU
time in this process, the ratio of the minimums (the least noisy figures on a shared machine), and how
the database reads each raw branch (``plan_ok``: an index walked in page order, or an index and a
sort of the matches only; never a sequential scan). The first page is also timed through the test client
(session, school context, template).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import re
import statistics
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_audit")

from django.db import connection  # noqa: E402

ACTIONS = [
    "people.login",
    "people.login.new_device",
    "people.activation_code.issued",
    "people.activation_code.used",
    "people.activation_code.revoked",
    "people.api_token.created",
    "people.totp.enabled",
    "people.role.granted",
    "people.role.removed",
    "roster.student.added",
    "roster.student.updated",
    "roster.student.moved",
    "roster.guardian.added",
    "roster.guardian.linked",
    "roster.staff.updated",
    "roster.consent.recorded",
    "schools.schoolclass.updated",
    "schools.room.created",
    "schools.subject.updated",
    "schools.teachingassignment.created",
    "journal.remark.added",
    "journal.remark.fixed",
    "journal.period_grade.corrected",
    "journal.journalpolicy.updated",
    "timetable.entry.created",
    "timetable.entry.changed",
    "timetable.lesson.substituted",
    "timetable.lesson.cancelled",
    "timetable.lessons.generated",
    "planning.plan.submitted",
    "planning.plan.approved",
    "planning.plan.returned",
    "messaging.announcement.published",
    "messaging.forum_topic.opened",
    "messaging.forum_reply.hidden",
    "notifications.class_notice.sent",
    "appeals.absence_report.submitted",
    "appeals.absence_report.accepted",
    "appeals.mark_flag.submitted",
    "diary.policy.changed",
]
RARE = "people.role.removed"  # one entry in a thousand
COLUMNS = ["school_id", "actor_id", "subject_id", "action", "object_type", "object_id", "data", "at"]


def build(rows: int, seed: int) -> dict:
    from classbook.people.models import Membership, Role, User
    from tests import factories as f

    rnd = random.Random(seed)
    schools = [f.SchoolFactory(slug=s, name=s) for s in ("large", "middle", "small")]
    share = [0.6, 0.3, 0.1]  # of the school rows
    sizes = [600, 300, 60]  # people per school
    users = User.objects.bulk_create([User(username=f"bench-u{i}", last_name=f"U{i}") for i in range(sum(sizes))])
    members: list[list[int]] = []
    start = 0
    for school, size in zip(schools, sizes, strict=True):
        people = users[start : start + size]
        start += size
        Membership.objects.bulk_create(
            [
                Membership(school=school, user=u, role=Role.ADMIN if i == 0 else Role.TEACHER)
                for i, u in enumerate(people)
            ]
        )
        members.append([u.pk for u in people])
    end = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    span = int(dt.timedelta(days=3 * 365).total_seconds())
    weights = [1.0] * len(ACTIONS)
    weights[ACTIONS.index(RARE)] = 0.04
    sql_rows = []
    for _i in range(rows):
        at = end - dt.timedelta(seconds=rnd.randrange(span), microseconds=rnd.randrange(1_000_000))
        if rnd.random() < 1 / 6:  # a login of someone of a school: no school
            who = rnd.choice(members[rnd.choices(range(3), share)[0]])
            sql_rows.append((None, who, who, "people.login", "people.user", str(who), {"ip": "10.0.0.1"}, at))
            continue
        k = rnd.choices(range(3), share)[0]
        actor = members[k][min(int(rnd.expovariate(1 / 15)), len(members[k]) - 1)]  # a few busy actors
        subject = rnd.choice(members[k])
        action = rnd.choices(ACTIONS, weights)[0]
        data = {"user": subject, "note": "x" * rnd.randrange(40)}
        sql_rows.append((schools[k].pk, actor, subject, action, "people.user", str(subject), data, at))
    insert(sql_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"schools": schools, "members": members, "end": end}


def insert(rows: list[tuple]) -> None:
    table = "core_auditentry"
    with connection.cursor() as cursor:
        if IS_POSTGRES:
            buf = io.StringIO()
            for r in rows:
                values = ["\\N" if v is None else (json.dumps(v) if isinstance(v, dict) else str(v)) for v in r]
                buf.write("\t".join(v.replace("\\", "\\\\") if v != "\\N" else v for v in values) + "\n")
            buf.seek(0)
            with cursor.cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                while chunk := buf.read(1 << 20):
                    copy.write(chunk)
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608  (constants only)
            for i in range(0, len(rows), 20000):
                cursor.executemany(
                    sql,
                    [
                        (*r[:6], json.dumps(r[6]), r[7].isoformat(sep=" ").replace("+00:00", ""))
                        for r in rows[i : i + 20000]
                    ],
                )


def timed(fn, calls: int) -> tuple[float, float, float]:
    """Median and min wall time, and min CPU time of this process (the Python side: on PostgreSQL the
    database works in its own process), in ms."""
    fn()
    samples, cpu = [], []
    for _ in range(calls):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(samples), min(samples), min(cpu)


RAW_COLUMNS = (
    "e.id, e.at, e.school_id, e.actor_id, e.subject_id, e.action, e.object_type, e.object_id, e.data, "
    "a.username, a.last_name, a.first_name, a.patronymic, s.username, s.last_name, s.first_name, s.patronymic"
)
RAW_JOINS = "LEFT JOIN people_user a ON a.id = e.actor_id LEFT JOIN people_user s ON s.id = e.subject_id"


def raw_floor(school_id: int, parts: list[tuple[str, list]], cursor_at=None):
    """The page's queries as hand-written SQL through the cursor, the same rows and columns (people's names
    joined), tuples instead of dicts: the floor the page's read model is compared with. One query per
    branch (the school's, its members' school-less entries) and per ``parts`` (a person: as actor, as
    subject), as the read model does."""
    keyset, kparams = "", []
    if cursor_at is not None:
        keyset = " AND e.at <= %s AND (e.at < %s OR e.id < %s)"
        kparams = [cursor_at.at, cursor_at.at, cursor_at.id]
    order = " ORDER BY e.at DESC, e.id DESC LIMIT 51"
    members = (
        "SELECT user_id FROM people_membership WHERE school_id = %s AND is_active AND (until IS NULL OR until >= %s)"
    )
    today = dt.date.today()
    statements = []
    for where, params in parts:
        # The SQL is assembled from this script's constants only; values go as parameters.
        a = f"SELECT {RAW_COLUMNS} FROM core_auditentry e {RAW_JOINS} WHERE e.school_id = %s{where}{keyset}{order}"  # noqa: S608
        b = f"SELECT {RAW_COLUMNS} FROM core_auditentry e {RAW_JOINS} WHERE e.school_id IS NULL AND COALESCE(e.actor_id = e.subject_id, true) AND e.subject_id IN ({members}){where}{keyset}{order}"  # noqa: S608, E501
        statements += [(a, [school_id, *params, *kparams]), (b, [school_id, today, *params, *kparams])]

    def run():
        found = {}
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(*statement)
                found.update((r[0], r) for r in cursor.fetchall())
        return sorted(found.values(), key=lambda r: (r[1], r[0]), reverse=True)[:50]

    return run, statements


def plan_ok(sql: str, params: list) -> str:
    """How the database reads a query: "walk" (an index in page order, stops after a page), "sort ~N" (an
    index finds the matches, about N by the planner's estimate, and a sort keeps 51), or "SEQ SCAN"."""
    explain = "EXPLAIN QUERY PLAN " if not IS_POSTGRES else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql, params)
        plan = " / ".join(str(r[-1] if not IS_POSTGRES else r[0]) for r in cursor.fetchall())
    if "Seq Scan on core_auditentry" in plan or ("SCAN e" in plan and "USING" not in plan):
        return "SEQ SCAN"
    if "TEMP B-TREE FOR ORDER BY" in plan:
        return "sort"
    sort = re.search(r"(?<!Incremental )Sort  \(cost=[0-9.]+ rows=(\d+)", plan)
    if sort:
        return f"sort ~{sort.group(1)}"  # the planner's estimate of the rows sorted
    return "walk"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Keep the database (and reuse it when it exists)")
    args = parser.parse_args()

    from django.test import Client
    from django.test.utils import setup_test_environment

    from classbook.access.context import build_context
    from classbook.audit import queries
    from classbook.people.models import User

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keep)
    try:
        t0 = time.perf_counter()
        data = existing() if args.keep and school_rows(None) else build(args.rows, args.seed)
        built = time.perf_counter() - t0
        print(f"database: {connection.vendor}; {args.rows:,} audit entries built and analysed in {built:.0f} s")
        end = data["end"]
        for school, people in zip(data["schools"], data["members"], strict=True):
            admin = User.objects.get(pk=people[0])
            ctx = build_context(admin, school)
            assert ctx is not None
            busy, quiet = people[0], people[-1]
            month = (end.date() - dt.timedelta(days=400), end.date() - dt.timedelta(days=370))
            deep = queries.Cursor(at=end - dt.timedelta(days=2 * 365), id=2**62)
            since = queries._day_start(month[0])
            until = queries._day_start(month[1] + dt.timedelta(days=1))
            prefix_sql, prefix_params = " AND e.action LIKE %s", ["people.%"]
            dates = [(" AND e.at >= %s AND e.at < %s", [since, until])]
            cases = [
                ("first page", queries.AuditFilter(), None, [("", [])]),
                ("person, busy", queries.AuditFilter(person=busy), None, person(busy)),
                ("person, quiet", queries.AuditFilter(person=quiet), None, person(quiet)),
                ("action prefix people.", queries.AuditFilter(action="people."), None, [(prefix_sql, prefix_params)]),
                ("action, rare exact", queries.AuditFilter(action=RARE), None, [(" AND e.action = %s", [RARE])]),
                ("a month, a year ago", queries.AuditFilter(since=month[0], until=month[1]), None, dates),
                ("deep page (2 years back)", queries.AuditFilter(), deep, [("", [])]),
            ]
            total = school_rows(school.pk)
            print(f"\nschool {school.slug}: {total:,} entries of its own, {len(people)} people")
            head = f"{'ms':26} {'page med':>8} {'min':>8} {'CPU min':>8}   {'raw med':>8} {'min':>8}  ratio  rows"
            print(head + "  plans (school; members[; school; members as subject])")
            for label, flt, cursor, parts in cases:
                page_fn = lambda ctx=ctx, flt=flt, cursor=cursor: queries.audit_page(ctx, flt, before=cursor)  # noqa: E731
                median, best, cpu = timed(page_fn, args.calls)
                raw, statements = raw_floor(school.pk, parts, cursor)
                raw_median, raw_best, _raw_cpu = timed(raw, args.calls)
                rows = len(page_fn().rows)
                assert rows == len(raw()), (label, rows, len(raw()))
                plans = "; ".join(plan_ok(*statement) for statement in statements)
                print(
                    f"{label:26} {median:8.2f} {best:8.2f} {cpu:8.2f}   {raw_median:8.2f} {raw_best:8.2f}"
                    f"  {best / raw_best:5.1f}  {rows:4}  {plans}"
                )
            client = Client()
            client.force_login(admin)
            url = f"/s/{school.slug}/audit/"
            median, best, cpu = timed(lambda client=client, url=url: client.get(url), args.calls)
            print(f"{'whole page (test client)':26} {median:8.2f} {best:8.2f} {cpu:8.2f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=args.keep)


def person(user_id: int) -> list[tuple[str, list]]:
    return [(" AND e.actor_id = %s", [user_id]), (" AND e.subject_id = %s", [user_id])]


def existing() -> dict:
    """The schools and people of a kept database (``--keep``), in the order ``build`` made them."""
    from classbook.people.models import Membership
    from classbook.schools.models import School

    schools = [School.objects.get(slug=s) for s in ("large", "middle", "small")]
    people = Membership.objects.order_by("pk").values_list("user_id", flat=True)
    members = [list(people.filter(school=s)) for s in schools]
    return {"schools": schools, "members": members, "end": dt.datetime(2026, 11, 30, tzinfo=dt.UTC)}


def school_rows(school_id: int | None) -> int:
    with connection.cursor() as cursor:
        if school_id is None:
            cursor.execute("SELECT COUNT(*) FROM core_auditentry")
        else:
            cursor.execute("SELECT COUNT(*) FROM core_auditentry WHERE school_id = %s", [school_id])
        return int(cursor.fetchone()[0])


if __name__ == "__main__":
    main()
