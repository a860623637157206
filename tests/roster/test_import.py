"""Importing class lists from CSV or Excel (R7.1): all or nothing, a per-row report, bulk writes."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from classbook.core.models import AuditEntry
from classbook.people.models import Enrolment, GuardianLink, Membership, Role, Student, User
from classbook.roster import imports
from tests.roster.conftest import snapshot, url

UK_HEADER = "Клас;Прізвище;Ім'я;По батькові;Дата народження;Стать;Адреса;Телефон;Номер особової справи"
GUARDIAN_UK = ";Опікун 1: прізвище;Опікун 1: ім'я;Опікун 1: телефон;Опікун 1: ступінь спорідненості"


def csv_bytes(text: str, encoding: str = "utf-8-sig") -> bytes:
    return text.encode(encoding)


def run(world, data: bytes, name: str = "list.csv", dry_run: bool = False, year=None):
    return imports.import_students(
        acting_user=world.secretary,
        school=world.school,
        year=year or world.class_a.year,
        file_name=name,
        data=data,
        start=dt.date(2026, 9, 1),
        dry_run=dry_run,
    )


def test_a_clean_ukrainian_csv_from_excel_imports_students_guardians_and_enrolments(world):
    text = "\n".join(
        [
            UK_HEADER + GUARDIAN_UK,
            "5-А;Коваленко;Олена;Петрівна;03.05.2015;ж;вул. Лесі Українки, 3;;A-101;Коваленко;Ірина;+380501;мати",
            "5 б;Коваленко;Андрій;Петрович;2016-11-20;ч;;;A-102;Коваленко;Ірина;+380501;мати",
            "5а;Бондар;Сергій;;;;;;;;;;",
        ]
    )
    report = run(world, csv_bytes(text, "cp1251"))
    assert report.ok, report.errors
    assert (report.created, report.guardians_created, report.guardians_linked) == (3, 1, 0)
    assert report.per_class == {"5-А": 2, "5-Б": 1}
    olena = Student.objects.get(user__first_name="Олена")
    assert olena.birth_date == dt.date(2015, 5, 3) and olena.gender == "f" and olena.personal_file_number == "A-101"
    assert olena.user.username == "kovalenko.olena" and not olena.user.has_usable_password()
    assert Enrolment.objects.get(student=olena).school_class == world.class_a
    mother = User.objects.get(first_name="Ірина")
    assert set(GuardianLink.objects.filter(guardian=mother).values_list("student__user__first_name", flat=True)) == {
        "Олена",
        "Андрій",
    }
    assert Membership.objects.filter(user=mother, role=Role.PARENT, school=world.school).count() == 1
    entry = AuditEntry.objects.get(action="roster.students.imported")
    assert entry.actor == world.secretary and len(entry.data["students"]) == 3


def test_one_bad_row_imports_nothing_and_the_report_names_rows_and_columns(world):
    text = "\n".join(
        [
            UK_HEADER,
            "5-А;Коваленко;Олена;;03.05.2015;ж;;;",
            "9-Я;Бондар;Сергій;;;;;;",  # unknown class
            "5-А;;Петро;;31.02.2015;x;;;",  # empty last name, impossible date, bad gender
            "5-А;Коваленко;Олена;;03.05.2015;ж;;;",  # the same as row 2
        ]
    )
    before = snapshot()
    report = run(world, csv_bytes(text))
    assert not report.ok
    found = {(e.row, e.column) for e in report.errors}
    assert (3, "Class") in found
    assert {(4, "Last name"), (4, "Birth date"), (4, "Gender")} <= found
    assert any(e.row == 5 and "row 2" in e.message for e in report.errors)
    assert snapshot() == before


def test_unknown_or_missing_columns_are_refused_before_any_row(world):
    report = run(world, csv_bytes("Клас;Прізвище;Імʼя;Улюблений колір\n5-А;Бондар;Сергій;синій\n"))
    assert not report.ok
    messages = " ".join(e.message for e in report.errors)
    assert "“Улюблений колір” (column 4)" in messages
    report = run(world, csv_bytes("Клас;Прізвище\n5-А;Бондар\n"))
    assert [(e.row, e.column) for e in report.errors] == [(1, "First name")]


def test_a_student_already_in_the_school_and_a_used_file_number_are_refused(world):
    existing = world.student
    existing.birth_date, existing.personal_file_number = dt.date(2015, 1, 2), "A-1"
    existing.save()
    u = existing.user
    text = (
        "Class,Last name,First name,Patronymic,Birth date,Personal file number\n"
        f"5-А,{u.last_name},{u.first_name},{u.patronymic},02.01.2015,\n5-А,Нова,Марія,,,A-1\n"
    )
    report = run(world, csv_bytes(text))
    assert [e.row for e in report.errors] == [2, 3]
    assert Student.objects.count() == 3


def test_an_excel_workbook_with_date_cells_imports(world):
    book = Workbook()
    sheet = book.active
    sheet.append(["Класс", "Фамилия", "Имя", "Дата рождения", "Пол"])
    sheet.append(["5-А", "Иванова", "Анна", dt.datetime(2015, 4, 1), "жен"])
    sheet.append([None, None, None, None, None])
    sheet.append(["5-Б", "Петров", "Иван", "01.02.2015", "муж"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = run(world, buffer.getvalue(), name="список.xlsx")
    assert report.ok, report.errors
    anna = Student.objects.get(user__first_name="Анна")
    assert anna.birth_date == dt.date(2015, 4, 1) and anna.gender == "f"
    assert Student.objects.get(user__first_name="Иван").gender == "m"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("list.csv", b""),
        ("list.xlsx", b"PK\x03\x04 not really a workbook"),
        ("list.pdf", b"%PDF-1.4"),
        ("list.csv", b"Class;Last name;First name\n"),
    ],
)
def test_unreadable_files_give_a_message_and_change_nothing(world, name, data):
    before = snapshot()
    report = run(world, data, name=name)
    assert not report.ok and report.errors[0].row in (0, 1)
    assert snapshot() == before


def test_dry_run_checks_without_writing(world):
    before = snapshot()
    report = run(world, csv_bytes("Class;Last name;First name\n5-А;Бондар;Сергій\n"), dry_run=True)
    assert report.ok and report.created == 0
    assert snapshot() == before


def test_a_thousand_rows_import_with_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    rows = [f"5-А;Прізвище{i};Ім'я{i};;;;;;;Батько{i};Тато;+3805{i:05d};батько" for i in range(1000)]
    text = UK_HEADER + ";Опікун 1: прізвище;Опікун 1: ім'я;Опікун 1: телефон;Опікун 1: ступінь спорідненості\n"
    # Bulk inserts: SQLite splits them at 999 parameters (~60 users per statement), so ~80 statements
    # here for 2,000 accounts and their rows; one query per row would be over 5,000.
    with django_assert_max_num_queries(120):
        report = run(world, csv_bytes(text + "\n".join(rows)))
    assert report.ok, report.errors[:3]
    assert report.created == 1000 and report.guardians_created == 1000
    assert len(set(User.objects.values_list("username", flat=True))) == User.objects.count()


def test_template_headers_are_read_back_in_every_language(world):
    for lang in ("uk", "ru", "en"):
        with translation.override(lang):
            header = ";".join(imports.header_labels())
        report = run(world, csv_bytes(f"{header}\n" + "5-А;Бондар;Сергій" + ";" * (len(imports.COLUMNS) - 3)))
        assert report.ok, (lang, report.errors)
    # Without a birth date the same name is not taken for the same child (namesakes exist): three students.
    assert Student.objects.filter(user__last_name="Бондар").count() == 3


# --- the page ---------------------------------------------------------------------------------------


def upload(client, text: str, button: str = "import", **extra):
    data = {"year": extra.pop("year", None), "file": SimpleUploadedFile("list.csv", text.encode()), button: "1"}
    return client.post(url("student_import"), {k: v for k, v in data.items() if v is not None}, **extra)


def test_page_checks_then_imports_and_shows_the_report(world, as_user):
    client = as_user(world.secretary)
    assert client.get(url("student_import")).status_code == 200
    good = "Class;Last name;First name\n5-А;Бондар;Сергій\n"
    checked = upload(client, good, "check", year=world.class_a.year.pk)
    assert checked.status_code == 200 and b"ready to import" in checked.content
    assert not Student.objects.filter(user__last_name="Бондар").exists()
    done = upload(client, good, year=world.class_a.year.pk)
    assert done.status_code == 302
    assert Student.objects.filter(user__last_name="Бондар").exists()
    bad = upload(client, "Class;Last name;First name\n7-Z;Бондар;Сергій\n", year=world.class_a.year.pk)
    assert bad.status_code == 200 and b"nothing was imported" in bad.content and b"7-Z" in bad.content
    template = client.get(url("student_import_template"))
    assert template.status_code == 200 and b"Last name" in template.content


@pytest.mark.parametrize("persona", ["teacher", "class_teacher", "student", "parent", "viewer", "foreign_admin"])
def test_only_those_who_manage_students_may_import(world, as_user, persona):
    client = as_user(world.persona(persona))
    before = snapshot()
    response = upload(client, "Class;Last name;First name\n5-А;Бондар;Сергій\n", year=world.class_a.year.pk)
    assert response.status_code in (403, 404)
    assert client.get(url("student_import_template")).status_code in (403, 404)
    assert snapshot() == before


def test_anonymous_is_sent_to_login(world):
    from django.test import Client

    response = Client().get(url("student_import"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_year_of_another_school_is_refused(world, as_user):
    foreign_year = world.foreign_class.year
    response = upload(as_user(world.secretary), "Class;Last name;First name\n5-А;Бондар;Сергій\n", year=foreign_year.pk)
    assert response.status_code == 200 and not Student.objects.filter(user__last_name="Бондар").exists()


# --- the API ----------------------------------------------------------------------------------------

API = "/api/v1/schools/lyceum-1/students/import"


def test_api_imports_and_reports_row_errors_as_json(world, as_user):
    client = as_user(world.secretary)
    year = world.class_a.year.pk
    bad = client.post(
        API,
        {
            "file": SimpleUploadedFile("l.csv", "Class;Last name;First name\n9-Я;Бондар;Сергій\n".encode()),
            "year_id": year,
        },
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "import_refused"
    body = bad.json()["error"]["report"]
    assert body["ok"] is False and body["errors"][0]["row"] == 2 and body["errors"][0]["column"] == "Class"
    good = client.post(
        API,
        {
            "file": SimpleUploadedFile("l.csv", "Class;Last name;First name\n5-А;Бондар;Сергій\n".encode()),
            "year_id": year,
        },
    )
    assert good.status_code == 200 and good.json()["created"] == 1
    foreign = client.post(API, {"file": SimpleUploadedFile("l.csv", b"x"), "year_id": world.foreign_class.year.pk})
    assert foreign.status_code == 422 and foreign.json()["error"]["fields"]["year_id"]


@pytest.mark.parametrize("persona", ["teacher", "class_teacher", "parent", "viewer", "foreign_admin"])
def test_api_import_is_refused_to_others(world, as_user, persona):
    before = snapshot()
    file = SimpleUploadedFile("l.csv", "Class;Last name;First name\n5-А;Бондар;Сергій\n".encode())
    response = as_user(world.persona(persona)).post(API, {"file": file, "year_id": world.class_a.year.pk})
    assert response.status_code in (403, 404) and "error" in response.json()
    assert snapshot() == before
