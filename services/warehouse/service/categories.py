"""The categories of the published tables: age bands, regions (from the postcode, by a table),
worker classes (from the DmfA's worker code, else DIMONA's worker type)."""

from __future__ import annotations

#: Age bands on the quarter's last day: (label, lowest age, highest age).
AGE_BANDS = (
    ("<25", 0, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, 200),
)
UNKNOWN = "UNKNOWN"

#: Belgian postcodes by region (the first postcode of each range, its region): allocated by
#: province, so the number tells the region. The German-speaking municipalities (4700-4791) lie
#: in the Walloon Region.
POSTCODE_REGIONS = (
    (1000, "BRUSSELS"),  # 1000-1299 Brussels-Capital
    (1300, "WALLONIA"),  # 1300-1499 Walloon Brabant
    (1500, "FLANDERS"),  # 1500-3999 Flemish Brabant, Antwerp, Limburg
    (4000, "WALLONIA"),  # 4000-7999 Liège, Namur, Luxembourg, Hainaut
    (8000, "FLANDERS"),  # 8000-9999 West and East Flanders
)
REGIONS = ("BRUSSELS", "FLANDERS", "WALLONIA", "ABROAD", UNKNOWN)

#: The DmfA's worker codes (services/dmfa/service/tables.toml) by class.
WORKER_CODE_CLASSES = {
    "015": "BLUE_COLLAR",
    "495": "WHITE_COLLAR",
    "840": "STUDENT",
    "841": "STUDENT",
    "016": "FLEXI",
    "496": "FLEXI",
}
#: Without a DmfA record: the classes DIMONA's worker type tells by itself.
WORKER_TYPE_CLASSES = {"STU": "STUDENT", "STX": "STUDENT", "FLX": "FLEXI", "BCW": "BLUE_COLLAR"}
WORKER_CLASSES = ("BLUE_COLLAR", "WHITE_COLLAR", "STUDENT", "FLEXI", UNKNOWN)
#: DIMONA's student types.
STUDENT_TYPES = frozenset({"STU", "STX"})
SEXES = ("MALE", "FEMALE", UNKNOWN)
#: For periods of a type without a joint committee (A17, STG, TEA).
NO_JOINT_COMMITTEE = "NONE"


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return UNKNOWN
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return UNKNOWN


def region(postcode: str, country_code: str) -> str:
    """The region of an address on the day: ABROAD for a foreign one, UNKNOWN without one (or
    with a Belgian postcode that is not four digits 1000-9999)."""
    if not country_code:
        return UNKNOWN
    if country_code != "BE":
        return "ABROAD"
    if len(postcode) != 4 or not postcode.isascii() or not postcode.isdigit():
        return UNKNOWN
    number = int(postcode)
    found = UNKNOWN
    for first, name in POSTCODE_REGIONS:
        if number >= first:
            found = name
    return found
