"""The registry of 110 incident types (警情类别) that Jingwu dispatches.

The classes follow the way Chinese public-security 110 command centres group their alarms
(刑事 / 治安 / 交通 / 火灾 / 群众求助 / 纠纷 / 灾害事故 / 举报及其他); each type carries the urgency a call
taker starts from, the units that may be sent and the capabilities they need.

Codes are stable ASCII identifiers: ``<category>.<type>[.<subtype>]``, lower case, digits and ``_``
(``crim.robbery``, ``traffic.accident.injury``). They are stored with every incident, so a code is
never renamed or reused; retire a type by leaving it here and no longer offering it.

``eido_type``: what goes into the EIDO incident component
    The bundled EIDO schema (NENA-STA-021.1b, ``IncidentInformationType``) declares
    ``incidentTypeCommonRegistryText`` as a *plain string* that "shall only contain values present in the
    Incident Type registry" — no URN prefix, no code/text pair. The registry that NENA points to for common
    incident types is APCO's *Common Incident Types for Data Exchange*. The edition whose values are
    published in machine-readable form is APCO ANS 2.103.1-2012, as the NIEM code list
    ``apco:IncidentCategoryCodeSimpleType`` (namespace ``http://release.niem.gov/niem/codes/apco_event/``):
    upper-case codes such as ``ROBBERY``, ``SHOOT``, ``DVA``, ``MVAINJY``, ``ALRBS``, ``PERMISS``.
    We use exactly those codes, so each value is checkable against a published list
    (:data:`EIDO_COMMON_TYPES` holds the ones we use, with APCO's description), rather than free-text
    names ("Robbery", "Traffic Collision - Injury") that we could not verify against any registry text.
    Our own code and Chinese name go into ``incidentTypeInternalCode`` / ``incidentTypeInternalText``.

Priorities: 1 life at risk or crime in progress · 2 urgent, attend now · 3 attend soon · 4 no urgency.

Capabilities (:data:`CAPABILITIES`): ``armed`` (unit carries firearms, e.g. 巡特警), ``traffic`` (traffic
police, equipped to handle a collision scene). A unit lacking a type's required capability is not
recommended. Unit kinds (:data:`UNIT_KINDS`) match ``jingwu.domain.status.UnitKind`` values; drones are
allowed only where aerial search or observation helps, foot patrols only for matters a walking officer
can settle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from jingwu.errors import ValidationFailed

CODE_PATTERN = re.compile(r"^[a-z]+(\.[a-z][a-z0-9_]*)+$")
PRIORITIES = (1, 2, 3, 4)
UNIT_KINDS = frozenset({"patrol_car", "motorcycle", "foot", "drone"})
CAPABILITIES = frozenset({"armed", "traffic"})

# category code → (中文, English), in display order
CATEGORIES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "crim": ("刑事案件", "Criminal case"),
        "order": ("治安案件", "Public-order case"),
        "traffic": ("交通类警情", "Traffic"),
        "fire": ("火灾", "Fire"),
        "help": ("群众求助", "Request for assistance"),
        "dispute": ("纠纷", "Dispute"),
        "disaster": ("灾害事故", "Disaster and accident"),
        "other": ("举报及其他", "Report and other"),
    }
)

# The APCO ANS 2.103.1-2012 common incident type codes this registry uses, with APCO's wording (abridged).
EIDO_COMMON_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "ABDUCTNF": "ABDUCTION NON-FAMILY - Abduction/kidnapping by non-family member",
        "ALRBS": "BURGLAR ALARM - Silent - Includes silent intrusion alarms",
        "ALRPANA": "PANIC ALARM AUDIBLE - Includes audible duress alarm",
        "ALRROBS": "ROBBERY ALARM SILENT - Includes hold up alarms",
        "ASSAULT": "ASSAULT - With or without injury",
        "ASSIST": "ASSIST - Assist to other agency or request for manpower",
        "BLDCLPSE": "BUILDING COLLAPSE - Collapsed building includes technical rescue incidents",
        "BOMB": "BOMB - Bomb threat or investigation",
        "BURGLARY": "BURGLARY - Includes breaking and entering incidents",
        "CITASST": "CITIZEN ASSIST - Public assistance, citizen standby, public service",
        "CIVDIS": "CIVIL DISOBEDIENCE - Riot, sit-in, protests, organized actions",
        "CIVIL": "CIVIL - Civil matters, codes enforcement issues",
        "DEATH": "DEATH - Obvious death, found body",
        "DISORD": "DISORDERLY - Disorderly conduct or disturbance",
        "DISVEH": "DISABLED VEHICLE",
        "DROWN": "DROWNING",
        "DRUGS": "DRUGS",
        "DUI": "DUI - Driving while intoxicated, under the influence",
        "DVA": "DOMESTIC VIOLENT - Domestic dispute with violence, family fight, assault",
        "DVNA": "DOMESTIC NON-VIOLENT - Domestic dispute non-violent, verbal",
        "EDP": "EMOTION DIST PERSON - EDP, emotional disturbance, abnormal behavior",
        "EXTORT": "EXTORT - Includes blackmail",
        "FARSON": "FIRE ARSON",
        "FIGHT": "FIGHT - Includes verbal and physical disputes",
        "FIREWRKS": "FIREWORKS - Illegal use of fireworks",
        "FRAUD": "FRAUD - Includes forgery, fraud, bad checks, identity theft",
        "FSTRU": "FIRE STRUCTURE - Includes sheds, attached garages, house fires",
        "FUNK": "FIRE UNKNOWN",
        "FVEH": "FIRE VEHICLE - Includes small or medium size vehicles, passenger cars, SUV, vans",
        "GASLEAK": "GAS LEAK - Includes natural gas, liquid fuel or propane leaks",
        "HARR": "HARASSMENT - Includes intimidation",
        "HOMICIDE": "HOMICIDE - Includes murder, criminally negligent homicide, manslaughter",
        "INFO": "INFO - Informational calls",
        "INTOX": "INTOXICATED - Intoxicated person, drunk & disorderly",
        "LARCENY": "LARCENY - Includes larceny attempt, theft, pick-pocketing",
        "MAJORINC": "MAJOR INCIDENT - Includes large scale weather related event",
        "MAYDAY": "MAYDAY - Immediate assistance request, emergency back-up request",
        "MVA": "MVA - Motor vehicle accident no injury",
        "MVAHR": "HIT & RUN - Vehicle accident hit & run",
        "MVAINJY": "MVA INJY - Motor Vehicle accident with injury",
        "NOISE": "NOISE - Loud noise or music",
        "PERMISS": "MISSING PERSON",
        "PERSUSP": "SUSPICIOUS PERSON - Includes prowler, peeping tom",
        "PERWANT": "WANTED PERSON - Arrest warrant, fugitive information",
        "PROPLOST": "LOST PROPERTY",
        "RECKDRV": "RECKLESS DRIVER - Careless driving and other driving offenses",
        "ROBBERY": "ROBBERY - Includes strong arm and attempted robbery excludes car jacking",
        "SEXOFFNS": "SEX OFFENSE - Sexual offenses, assaults, rapes, sex abuse, molestation, incest",
        "SHOOT": "SHOOTING",
        "SICK": "SICK - Sick person non specific, general illness, flu",
        "STABBING": "STABBING",
        "SUICTHRT": "SUICIDE THREATS - Attempt or threatening suicide",
        "SUSP": "SUSPICIOUS - Suspicious incident, circumstances, unknown problems",
        "THAZ": "TRAFFIC HAZARD - Includes debris in roadway, black ice",
        "TROUBLE": "TROUBLE - Unknown type trouble",
        "VANDAL": "VANDALISM - Vehicle tampering, graffiti, criminal mischief",
        "VEHSTLN": "STOLEN VEHICLE - Includes Lo-Jack alerts",
        "VICE": "VICE - Prostitution, gambling, betting, wagering, embezzlement",
        "WEAPON": "WEAPON VIOLATION - Brandishing a weapon, CCW, illegal discharge, displaying, drive by",
        "WELFARE": "WELFARE CHECK - man down check, welfare check",
        "ENTRAP": "ENTRAPMENT - Includes accidental entrapments, inaccessible incidents, stuck elevator",
    }
)


@dataclass(frozen=True, slots=True)
class IncidentType:
    code: str
    name_zh: str
    name_en: str
    category: str
    category_zh: str
    category_en: str
    default_priority: int  # 1 (most urgent, life at risk / crime in progress) … 4 (no urgency)
    eido_type: str  # APCO ANS 2.103.1 common incident type code, see the module docstring
    allowed_unit_kinds: frozenset[str]
    required_capabilities: frozenset[str] = frozenset()


_CAR = frozenset({"patrol_car"})
_CAR_MOTO = frozenset({"patrol_car", "motorcycle"})
# minor or nearby matters a walking officer can settle
_STREET = frozenset({"patrol_car", "motorcycle", "foot"})
_SEARCH = frozenset({"patrol_car", "motorcycle", "foot", "drone"})  # people or places to find from the air
_CAR_DRONE = frozenset({"patrol_car", "drone"})  # crowds and wide areas: observe, do not send a lone rider
_ARMED = frozenset({"armed"})
_TRAFFIC = frozenset({"traffic"})

# (code, 中文, English, default priority, APCO code, allowed unit kinds, required capabilities)
_ROWS: tuple[tuple[str, str, str, int, str, frozenset[str], frozenset[str]], ...] = (
    # 刑事案件
    ("crim.homicide", "杀人", "Homicide", 1, "HOMICIDE", _CAR, _ARMED),
    ("crim.assault", "故意伤害", "Assault causing injury", 1, "ASSAULT", _CAR_MOTO, frozenset()),
    ("crim.robbery", "抢劫", "Robbery", 1, "ROBBERY", _CAR_MOTO, frozenset()),
    ("crim.snatch", "抢夺", "Snatch theft", 2, "LARCENY", _STREET, frozenset()),
    ("crim.theft", "盗窃", "Theft", 3, "LARCENY", _STREET, frozenset()),
    ("crim.theft.burglary", "入室盗窃", "Burglary", 2, "BURGLARY", _CAR_MOTO, frozenset()),
    ("crim.theft.vehicle", "盗窃机动车", "Motor vehicle theft", 3, "VEHSTLN", _CAR_MOTO, frozenset()),
    ("crim.theft.pickpocket", "扒窃", "Pickpocketing", 2, "LARCENY", _STREET, frozenset()),
    ("crim.fraud", "诈骗", "Fraud", 3, "FRAUD", _STREET, frozenset()),
    # an ongoing telecom fraud is urgent: money can still be stopped at the bank (紧急止付)
    ("crim.fraud.telecom", "电信网络诈骗", "Telecom or online fraud", 2, "FRAUD", _STREET, frozenset()),
    ("crim.sexual_assault", "强奸", "Sexual assault", 1, "SEXOFFNS", _CAR, frozenset()),
    ("crim.kidnapping", "绑架", "Kidnapping", 1, "ABDUCTNF", _CAR, _ARMED),
    ("crim.firearm", "涉枪", "Firearm incident", 1, "WEAPON", _CAR, _ARMED),
    ("crim.firearm.shots", "开枪", "Shots fired", 1, "SHOOT", _CAR, _ARMED),
    ("crim.knife_attack", "持刀行凶", "Knife attack", 1, "STABBING", _CAR, _ARMED),
    ("crim.arson", "放火", "Arson", 1, "FARSON", _CAR, frozenset()),
    ("crim.extortion", "敲诈勒索", "Extortion or threats", 3, "EXTORT", _CAR_MOTO, frozenset()),
    # 治安案件
    ("order.fight", "打架斗殴", "Fight", 2, "FIGHT", _STREET, frozenset()),
    ("order.affray", "寻衅滋事", "Provocation and affray", 2, "DISORD", _STREET, frozenset()),
    ("order.mass_disturbance", "聚众闹事", "Mass disturbance", 1, "CIVDIS", _CAR_DRONE, frozenset()),
    ("order.gambling", "赌博", "Gambling", 3, "VICE", _CAR, frozenset()),
    ("order.drugs", "吸毒", "Drug use", 3, "DRUGS", _CAR, frozenset()),
    ("order.prostitution", "卖淫嫖娼", "Prostitution", 3, "VICE", _CAR, frozenset()),
    ("order.noise", "噪音扰民", "Noise nuisance", 4, "NOISE", _STREET, frozenset()),
    ("order.domestic_violence", "家庭暴力", "Domestic violence", 1, "DVA", _CAR_MOTO, frozenset()),
    ("order.suspicious_person", "可疑人员", "Suspicious person", 3, "PERSUSP", _STREET, frozenset()),
    ("order.suspicious_circumstance", "可疑情况", "Suspicious circumstance", 3, "SUSP", _STREET, frozenset()),
    ("order.suspicious_object", "可疑物品", "Suspicious object", 2, "BOMB", _CAR, frozenset()),
    # APCO has no thrown-object code; the act is reckless endangerment, i.e. disorderly conduct
    ("order.thrown_object", "高空抛物", "Object thrown from height", 2, "DISORD", _SEARCH, frozenset()),
    ("order.harassment", "骚扰他人", "Harassment", 3, "HARR", _STREET, frozenset()),
    # central Harbin forbids fireworks outside permitted hours and places
    ("order.fireworks", "违规燃放烟花爆竹", "Illegal fireworks", 4, "FIREWRKS", _STREET, frozenset()),
    ("order.vandalism", "故意损毁财物", "Criminal damage to property", 3, "VANDAL", _STREET, frozenset()),
    # 交通类
    (
        "traffic.accident.property",
        "交通事故（财产损失）",
        "Traffic collision, damage only",
        3,
        "MVA",
        _CAR_MOTO,
        _TRAFFIC,
    ),
    (
        "traffic.accident.injury",
        "交通事故（人员伤亡）",
        "Traffic collision with injury",
        1,
        "MVAINJY",
        _CAR_MOTO,
        _TRAFFIC,
    ),
    ("traffic.accident.hit_and_run", "交通肇事逃逸", "Hit and run", 2, "MVAHR", _CAR_MOTO, _TRAFFIC),
    (
        "traffic.congestion",
        "交通堵塞",
        "Traffic congestion",
        3,
        "THAZ",
        frozenset({"patrol_car", "motorcycle", "drone"}),
        _TRAFFIC,
    ),
    ("traffic.drunk_driving", "酒驾", "Drunk driving", 2, "DUI", _CAR_MOTO, frozenset()),
    ("traffic.reckless", "危险驾驶", "Reckless driving", 2, "RECKDRV", _CAR_MOTO, frozenset()),
    (
        "traffic.hazard",
        "道路障碍（遗撒、结冰）",
        "Road hazard (debris, ice)",
        3,
        "THAZ",
        _CAR_MOTO,
        frozenset(),
    ),
    ("traffic.disabled_vehicle", "车辆故障求助", "Disabled vehicle", 4, "DISVEH", _CAR_MOTO, frozenset()),
    # 火灾: 119 fights the fire; police secure the scene and the traffic around it
    ("fire.building", "建筑火灾", "Structure fire", 1, "FSTRU", _CAR_MOTO, frozenset()),
    ("fire.vehicle", "车辆火灾", "Vehicle fire", 1, "FVEH", _CAR_MOTO, frozenset()),
    ("fire.other", "火警（其他或性质不明）", "Fire, other or unknown", 2, "FUNK", _CAR_MOTO, frozenset()),
    # 群众求助
    ("help.missing_person", "走失人员", "Missing person", 2, "PERMISS", _SEARCH, frozenset()),
    ("help.missing_person.elderly", "走失老人", "Missing elderly person", 2, "PERMISS", _SEARCH, frozenset()),
    ("help.missing_person.child", "走失儿童", "Missing child", 1, "PERMISS", _SEARCH, frozenset()),
    ("help.drunk", "醉酒人员", "Intoxicated person", 3, "INTOX", _STREET, frozenset()),
    ("help.mental_health", "精神异常人员", "Mental health crisis", 2, "EDP", _CAR, frozenset()),
    ("help.medical", "急救", "Medical emergency", 1, "SICK", _STREET, frozenset()),
    ("help.suicide", "轻生", "Suicide threat", 1, "SUICTHRT", _CAR, frozenset()),
    ("help.welfare_check", "查看安危", "Welfare check", 3, "WELFARE", _STREET, frozenset()),
    ("help.trapped", "被困求助", "Person trapped (lift, locked in)", 2, "ENTRAP", _CAR_MOTO, frozenset()),
    ("help.lost_property", "遗失物品", "Lost property", 4, "PROPLOST", _STREET, frozenset()),
    ("help.non_police", "非警务求助", "Non-police request", 4, "CITASST", _STREET, frozenset()),
    # 纠纷
    ("dispute.neighbour", "邻里纠纷", "Neighbour dispute", 3, "FIGHT", _STREET, frozenset()),
    ("dispute.family", "家庭纠纷", "Family dispute", 3, "DVNA", _STREET, frozenset()),
    ("dispute.economic", "经济纠纷", "Economic dispute", 3, "CIVIL", _STREET, frozenset()),
    ("dispute.labour", "劳资纠纷", "Wage or labour dispute", 3, "CIVIL", _STREET, frozenset()),
    ("dispute.other", "其他纠纷", "Other dispute", 3, "FIGHT", _STREET, frozenset()),
    # 灾害事故
    ("disaster.gas_leak", "燃气泄漏", "Gas leak", 1, "GASLEAK", _CAR_MOTO, frozenset()),
    ("disaster.building_collapse", "建筑物坍塌", "Building collapse", 1, "BLDCLPSE", _CAR_DRONE, frozenset()),
    ("disaster.drowning", "溺水", "Drowning", 1, "DROWN", _SEARCH, frozenset()),
    (
        "disaster.natural",
        "自然灾害（暴雪、洪涝）",
        "Natural disaster (blizzard, flood)",
        2,
        "MAJORINC",
        _CAR_DRONE,
        frozenset(),
    ),
    # 举报及其他
    (
        "other.alarm_column",
        "一键报警",
        "Alarm column pressed, nature unknown",
        2,
        "ALRPANA",
        _STREET,
        frozenset(),
    ),
    ("other.burglar_alarm", "防盗报警", "Burglar alarm", 2, "ALRBS", _CAR_MOTO, frozenset()),
    ("other.holdup_alarm", "紧急报警（抢劫）", "Hold-up alarm", 1, "ALRROBS", _CAR, _ARMED),
    ("other.officer_assist", "民警请求支援", "Officer needs assistance", 1, "MAYDAY", _CAR_MOTO, frozenset()),
    ("other.wanted_person", "发现在逃人员", "Wanted person sighted", 2, "PERWANT", _CAR, frozenset()),
    ("other.unexplained_death", "非正常死亡", "Death, cause unknown", 2, "DEATH", _CAR, frozenset()),
    ("other.agency_assist", "协助其他部门", "Assist another agency", 3, "ASSIST", _CAR, frozenset()),
    ("other.tip", "举报线索", "Crime tip or report", 4, "INFO", _STREET, frozenset()),
    ("other.misc", "其他警情", "Other incident", 3, "TROUBLE", _STREET, frozenset()),
)


def _build() -> Mapping[str, IncidentType]:
    types: dict[str, IncidentType] = {}
    for code, zh, en, priority, eido, kinds, caps in _ROWS:
        category = code.split(".", 1)[0]
        category_zh, category_en = CATEGORIES[category]
        types[code] = IncidentType(
            code=code,
            name_zh=zh,
            name_en=en,
            category=category,
            category_zh=category_zh,
            category_en=category_en,
            default_priority=priority,
            eido_type=eido,
            allowed_unit_kinds=kinds,
            required_capabilities=caps,
        )
    return MappingProxyType(types)


# Built from literals only: importing this module does no I/O.
INCIDENT_TYPES: Mapping[str, IncidentType] = _build()


def get_incident_type(code: str) -> IncidentType:
    """The type with this code; an unknown code is the client's error (422)."""
    try:
        return INCIDENT_TYPES[code]
    except (KeyError, TypeError):
        raise ValidationFailed(
            f"unknown incident type code {code!r}", code="unknown_incident_type", type_code=code
        ) from None


def search_incident_types(query: str) -> list[IncidentType]:
    """Types whose code, Chinese or English name contains ``query`` (case-insensitive), in registry order.

    A blank query matches every type, so a picker can show the full list before the user types.
    """
    needle = query.strip().casefold()
    return [
        t
        for t in INCIDENT_TYPES.values()
        if needle in t.code.casefold() or needle in t.name_zh.casefold() or needle in t.name_en.casefold()
    ]


__all__ = [
    "CAPABILITIES",
    "CATEGORIES",
    "CODE_PATTERN",
    "EIDO_COMMON_TYPES",
    "INCIDENT_TYPES",
    "PRIORITIES",
    "UNIT_KINDS",
    "IncidentType",
    "get_incident_type",
    "search_incident_types",
]
