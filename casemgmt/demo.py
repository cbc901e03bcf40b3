"""Demo data: realistic but invented families from the countries families in German
integration work come from. Used by ``manage.py seed_demo`` and the benchmarks."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

# (country code, language codes, family names, female given names, male given names)
ORIGINS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "SY",
        ("ar",),
        ("Al-Hassan", "Haddad", "Khalil", "Mansour", "Al-Masri", "Darwish", "Hamdan"),
        ("Amina", "Rania", "Layla", "Nour", "Fatima", "Hiba", "Yasmin"),
        ("Omar", "Ahmad", "Khaled", "Yusuf", "Mahmoud", "Samir", "Karim"),
    ),
    (
        "AF",
        ("prs", "ps"),
        ("Ahmadi", "Rahimi", "Hakimi", "Noori", "Sultani", "Popal"),
        ("Mariam", "Zahra", "Parwana", "Shabnam", "Farzana", "Nilofar"),
        ("Mohammad", "Ali", "Hamid", "Farid", "Jawad", "Naveed"),
    ),
    (
        "TR",
        ("tr", "ku"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın"),
        ("Ayşe", "Elif", "Zeynep", "Emine", "Hatice", "Büşra"),
        ("Mehmet", "Mustafa", "Hüseyin", "Emre", "Burak", "İbrahim"),
    ),
    (
        "UA",
        ("uk", "ru"),
        ("Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk"),
        ("Olena", "Iryna", "Natalia", "Oksana", "Yulia", "Tetiana"),
        ("Oleksandr", "Andrii", "Dmytro", "Serhii", "Mykola", "Volodymyr"),
    ),
    (
        "IQ",
        ("ar", "ku"),
        ("Al-Jaburi", "Hussein", "Kareem", "Al-Obaidi", "Saleh"),
        ("Zainab", "Noor", "Huda", "Sara", "Maryam"),
        ("Hassan", "Mustafa", "Ali", "Haider", "Ammar"),
    ),
    (
        "ER",
        ("ti",),
        ("Tesfay", "Haile", "Gebremedhin", "Kidane", "Berhe", "Tekle"),
        ("Selam", "Yohanna", "Senait", "Helen", "Winta"),
        ("Yonas", "Dawit", "Samuel", "Filmon", "Biniam"),
    ),
    (
        "RO",
        ("ro",),
        ("Popescu", "Ionescu", "Stan", "Dumitru", "Constantin", "Lungu"),
        ("Ioana", "Elena", "Andreea", "Maria", "Alina"),
        ("Andrei", "Mihai", "Ionuț", "Florin", "Gheorghe"),
    ),
    (
        "BG",
        ("bg", "tr"),
        ("Ivanova", "Petrov", "Dimitrov", "Georgiev", "Nikolov"),
        ("Desislava", "Mariya", "Gergana", "Tsvetelina"),
        ("Georgi", "Ivan", "Stoyan", "Hristo"),
    ),
    (
        "SO",
        ("so",),
        ("Mohamed", "Abdi", "Warsame", "Farah", "Osman"),
        ("Hodan", "Ayaan", "Sahra", "Faadumo"),
        ("Abdirahman", "Mohamud", "Liban", "Abdullahi"),
    ),
)

STREETS = (
    "Bahnhofstraße",
    "Lindenweg",
    "Am Markt",
    "Schulstraße",
    "Gartenstraße",
    "Mühlenweg",
    "Kirchplatz",
    "Jahnstraße",
    "Ringstraße",
    "Am Sportplatz",
)
RESIDENCE_BY_COUNTRY = {
    "SY": ("residence_permit", "settlement_permit", "asylum_pending"),
    "AF": ("residence_permit", "asylum_pending", "tolerated"),
    "TR": ("settlement_permit", "residence_permit", "german_citizen"),
    "UA": ("temporary_protection",),
    "IQ": ("residence_permit", "tolerated", "asylum_pending"),
    "ER": ("residence_permit", "asylum_pending"),
    "RO": ("eu_citizen",),
    "BG": ("eu_citizen",),
    "SO": ("residence_permit", "asylum_pending"),
}


@dataclass(frozen=True)
class DemoPerson:
    role: str
    given_name: str
    family_name: str
    date_of_birth: datetime.date
    sex: str
    residence_status: str
    country_of_origin: str


@dataclass(frozen=True)
class DemoFamily:
    family_name: str
    address: str
    phone: str
    notes: str
    languages: list[str]
    interpreter_needed: bool
    benefit_status_at_intake: str
    opened_on: datetime.date
    status: str
    members: list[DemoPerson]


def _date_between(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange(max(1, (end - start).days)))


def demo_family(rng: random.Random, town: str, today: datetime.date) -> DemoFamily:
    """One invented household; deterministic for a given random generator state."""
    country, languages, surnames, female, male = rng.choice(ORIGINS)
    surname = rng.choice(surnames)
    residence = RESIDENCE_BY_COUNTRY[country]
    members: list[DemoPerson] = []
    parent_years = rng.randint(24, 52)
    for sex, names in (("female", female), ("male", male))[: rng.choice((1, 2, 2, 2))]:
        members.append(
            DemoPerson(
                "parent",
                rng.choice(names),
                surname,
                _date_between(
                    rng,
                    today.replace(year=today.year - parent_years - 5),
                    today.replace(year=today.year - parent_years),
                ),
                sex,
                rng.choice(residence),
                country,
            )
        )
    for _ in range(rng.choice((0, 1, 2, 2, 3, 4))):
        sex = rng.choice(("female", "male"))
        members.append(
            DemoPerson(
                "child",
                rng.choice(female if sex == "female" else male),
                surname,
                _date_between(rng, today.replace(year=today.year - 17), today - datetime.timedelta(days=60)),
                sex,
                rng.choice(residence),
                rng.choice((country, country, "DE")),
            )
        )
    opened = _date_between(rng, today - datetime.timedelta(days=900), today)
    return DemoFamily(
        family_name=surname,
        address=f"{rng.choice(STREETS)} {rng.randint(1, 120)}, {town}",
        phone=f"+49 1{rng.randint(50, 79)} {rng.randint(1000000, 9999999)}",
        notes=rng.choice(
            (
                "Erstgespräch im Büro; Dolmetscher für das nächste Gespräch organisieren.",
                "Hausbesuch vereinbart. Familie wünscht Unterstützung bei der Kita-Suche.",
                "Anerkennung des Berufsabschlusses angefragt; Unterlagen liegen teilweise vor.",
                "Kontakt über die Schule; Sprachkurs für die Mutter gewünscht.",
                "",
            )
        ),
        languages=list(languages),
        interpreter_needed=rng.random() < 0.5,
        benefit_status_at_intake=rng.choice(("sgb_ii", "sgb_ii", "sgb_ii", "asylblg", "none", "unknown")),
        opened_on=opened,
        status=rng.choice(("intake", "active", "active", "active", "paused")),
        members=members,
    )
