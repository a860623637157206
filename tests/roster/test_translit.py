"""Login names from the official KMU 2010 transliteration table (R1.7)."""

import pytest

from classbook.roster.services import unique_username
from classbook.roster.translit import transliterate, username_base
from tests import factories as f


@pytest.mark.parametrize(
    ("ukrainian", "latin"),
    [
        ("Алушта", "Alushta"),
        ("Згорани", "Zghorany"),
        ("Розгон", "Rozghon"),
        ("Єнакієве", "Yenakiieve"),
        ("Гаєвич", "Haievych"),
        ("Короп'є", "Koropie"),
        ("Їжакевич", "Yizhakevych"),
        ("Кадиївка", "Kadyivka"),
        ("Йосипівка", "Yosypivka"),
        ("Стрий", "Stryi"),
        ("Олексій", "Oleksii"),
        ("Юрій", "Yurii"),
        ("Корюківка", "Koriukivka"),
        ("Яготин", "Yahotyn"),
        ("Ічня", "Ichnia"),
        ("Щербухи", "Shcherbukhy"),
        ("Гоща", "Hoshcha"),
        ("Ґалаґан", "Galagan"),
        ("Знам’янка", "Znamianka"),
        ("Біла Церква", "Bila Tserkva"),
        ("Харків", "Kharkiv"),
        ("Жашків", "Zhashkiv"),
    ],
)
def test_transliteration_follows_the_kmu_2010_table(ukrainian, latin):
    assert transliterate(ukrainian) == latin


def test_username_is_lowercase_surname_dot_first_name():
    assert username_base("Шевченко", "Тарас") == "shevchenko.taras"
    assert username_base("Д'Артаньян-Коваль", "Юлія") == "dartaniankoval.yuliia"
    assert username_base("!!!", "") == "user"


@pytest.mark.django_db
def test_username_gets_a_numeric_suffix_when_taken():
    f.UserFactory(username="shevchenko.taras")
    f.UserFactory(username="shevchenko.taras2")
    assert unique_username("Шевченко", "Тарас") == "shevchenko.taras3"
    assert unique_username("Шевченко", "Ольга") == "shevchenko.olha"
