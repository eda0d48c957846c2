"""Known interactions among the formulary's drugs, and the allergy classes.

An interaction names two groups of drugs by ATC code prefixes (a full code names one drug,
a shorter one a class) and a stable ``kind`` the pages translate (``rx.interaction.<kind>``).
``high`` marks the major interactions (avoid the combination, or only with monitoring a
specialist can justify); ``moderate`` ones are shown but do not block.

Sources: the BNF interactions appendix (NICE, 2025), Stockley's Drug Interactions, the
summaries of product characteristics, and CredibleMeds' list of drugs with a known risk of
torsades de pointes (for the QT group).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class Interaction:
    left: tuple[str, ...]
    right: tuple[str, ...]
    kind: str
    severity: str = "high"


VKA = ("B01AA",)
DOAC = ("B01AE", "B01AF")
HEPARINS = ("B01AB",)
NSAIDS = ("M01A", "N02BA01")
ANTIPLATELET_ASPIRIN = ("B01AC06",)
RAAS = ("C09A", "C09C", "C09DX04")
POTASSIUM_SPARING = ("C03DA",)
POTASSIUM = ("A12BA01",)
STRONG_CYP3A4_MACROLIDES = ("J01FA09", "J01FA01")
SIMVASTATIN = ("C10AA01",)
NITRATES = ("C01DA",)
PDE5 = ("G04BE03", "G04BE08")
BETA_BLOCKERS = ("C07",)
RATE_LIMITING_CCB = ("C08DA01", "C08DB01")
SEROTONERGIC = ("N06AB", "N06AX16", "N06AX21")
TRAMADOL = ("N02AX02",)
OPIOIDS = ("N02A",)
SEDATIVES = ("N05BA", "N05CF", "N03AE01")
THIAZIDES = ("C03AA", "C03BA")
LITHIUM = ("N05AN01",)
METHOTREXATE = ("L04AX03",)
COTRIMOXAZOLE = ("J01EE01",)
DIGOXIN = ("C01AA05",)
AMIODARONE = ("C01BD01",)
THEOPHYLLINES = ("R03DA04", "R03DA05")
CIPROFLOXACIN = ("J01MA02",)
CARBAMAZEPINE = ("N03AF01",)
FLUCONAZOLE = ("J02AC01",)
METRONIDAZOLE = ("P01AB01",)
LAMOTRIGINE = ("N03AX09",)
VALPROATE = ("N03AG01",)
CLOPIDOGREL = ("B01AC04",)
CYP2C19_PPI = ("A02BC01", "A02BC05")
ACE_INHIBITORS = ("C09A",)
ARB = ("C09C",)
SACUBITRIL = ("C09DX04",)

# Drugs with a known risk of torsades de pointes: any two together prolong the QT interval.
QT_KNOWN_RISK = (
    "C01BD01",  # amiodarone
    "C01BD07",  # dronedarone
    "C01BC04",  # flecainide
    "C07AA07",  # sotalol
    "N05AD01",  # haloperidol
    "J01MA02",  # ciprofloxacin
    "J01MA12",  # levofloxacin
    "J01MA14",  # moxifloxacin
    "J01FA01",  # erythromycin
    "J01FA09",  # clarithromycin
    "J01FA10",  # azithromycin
    "A04AA01",  # ondansetron
    "A03FA03",  # domperidone
    "N06AB04",  # citalopram
    "N06AB10",  # escitalopram
    "P01BA02",  # hydroxychloroquine
)

INTERACTIONS: tuple[Interaction, ...] = (
    Interaction(VKA, NSAIDS + ANTIPLATELET_ASPIRIN, "bleeding"),
    Interaction(DOAC, NSAIDS + ANTIPLATELET_ASPIRIN, "bleeding"),
    Interaction(VKA + DOAC + HEPARINS, VKA + DOAC + HEPARINS, "double_anticoagulation"),
    Interaction(VKA, STRONG_CYP3A4_MACROLIDES, "anticoagulant_raised"),
    Interaction(VKA, COTRIMOXAZOLE + METRONIDAZOLE + FLUCONAZOLE, "anticoagulant_raised"),
    Interaction(VKA, AMIODARONE, "anticoagulant_raised"),
    Interaction(RAAS, POTASSIUM_SPARING, "hyperkalaemia"),
    Interaction(RAAS + POTASSIUM_SPARING, POTASSIUM, "hyperkalaemia"),
    Interaction(ACE_INHIBITORS, ARB + SACUBITRIL, "dual_raas_blockade"),
    Interaction(STRONG_CYP3A4_MACROLIDES + FLUCONAZOLE, SIMVASTATIN, "myopathy"),
    Interaction(AMIODARONE, SIMVASTATIN, "myopathy"),
    Interaction(NITRATES, PDE5, "severe_hypotension"),
    Interaction(BETA_BLOCKERS, RATE_LIMITING_CCB, "heart_block"),
    Interaction(SEROTONERGIC, TRAMADOL, "serotonin_syndrome"),
    Interaction(OPIOIDS, SEDATIVES, "respiratory_depression"),
    Interaction(LITHIUM, THIAZIDES + RAAS + NSAIDS, "lithium_toxicity"),
    Interaction(METHOTREXATE, COTRIMOXAZOLE + NSAIDS, "methotrexate_toxicity"),
    Interaction(
        DIGOXIN, AMIODARONE + RATE_LIMITING_CCB[:1] + STRONG_CYP3A4_MACROLIDES, "digoxin_toxicity"
    ),
    Interaction(THEOPHYLLINES, CIPROFLOXACIN + STRONG_CYP3A4_MACROLIDES, "theophylline_toxicity"),
    Interaction(CARBAMAZEPINE, STRONG_CYP3A4_MACROLIDES + FLUCONAZOLE, "carbamazepine_toxicity"),
    Interaction(LAMOTRIGINE, VALPROATE, "lamotrigine_raised"),
    Interaction(QT_KNOWN_RISK, QT_KNOWN_RISK, "qt_prolongation"),
    Interaction(CLOPIDOGREL, CYP2C19_PPI, "clopidogrel_reduced", "moderate"),
    Interaction(("C10AA05",), STRONG_CYP3A4_MACROLIDES, "myopathy", "moderate"),
)


def _in(atc: str, group: tuple[str, ...]) -> bool:
    return any(atc.startswith(prefix) for prefix in group)


def interaction(a: str, b: str) -> Interaction | None:
    """The most severe known interaction between two drugs (by ATC code), if any."""
    if a == b:
        return None  # the same drug twice is a duplicate, not an interaction
    found = [
        i
        for i in INTERACTIONS
        if (_in(a, i.left) and _in(b, i.right)) or (_in(b, i.left) and _in(a, i.right))
    ]
    found.sort(key=lambda i: i.severity != "high")
    return found[0] if found else None


def pairs() -> list[tuple[str, str, Interaction]]:
    """Every pair of formulary drugs that interacts (for the documentation and the tests)."""
    from .catalogue import formulary

    codes = [d.atc for d in formulary().drugs]
    out = []
    for a, b in combinations(codes, 2):
        found = interaction(a, b)
        if found is not None:
            out.append((a, b, found))
    return out


# --- allergies ----------------------------------------------------------------------------

# Substance names (normalised, any of the three languages) that name a class of drugs.
ALLERGY_CLASSES: dict[str, tuple[str, ...]] = {}
for _names, _prefixes in (
    (("penicillin", "penicillins", "пенициллин", "пенициллины", "пенициллиндер"), ("J01C",)),
    (
        ("cephalosporin", "cephalosporins", "цефалоспорин", "цефалоспорины", "цефалоспориндер"),
        ("J01DB", "J01DC", "J01DD", "J01DE"),
    ),
    (("carbapenem", "carbapenems", "карбапенем", "карбапенемы"), ("J01DH",)),
    (
        ("sulfonamide", "sulfonamides", "sulfa", "сульфаниламид", "сульфаниламиды"),
        ("J01E",),
    ),
    (("macrolide", "macrolides", "макролид", "макролиды", "макролидтер"), ("J01FA",)),
    (
        (
            "fluoroquinolone",
            "fluoroquinolones",
            "quinolones",
            "фторхинолон",
            "фторхинолоны",
            "фторхинолондар",
        ),
        ("J01MA",),
    ),
    (("tetracycline", "tetracyclines", "тетрациклин", "тетрациклины"), ("J01AA",)),
    (("aminoglycoside", "aminoglycosides", "аминогликозид", "аминогликозиды"), ("J01GB",)),
    (
        ("nsaid", "nsaids", "нпвс", "нпвп", "ққсп", "аспирин", "aspirin", "salicylates"),
        ("M01A", "N02BA", "B01AC06"),
    ),
    (
        ("ace inhibitor", "ace inhibitors", "иапф", "ингибиторы апф", "ангиотензин"),
        ("C09A",),
    ),
    (("statin", "statins", "статин", "статины", "статиндер"), ("C10AA",)),
    (("opioid", "opioids", "опиоид", "опиоиды", "опиоидтар"), ("N02A",)),
    (("insulin", "инсулин"), ("A10A",)),
    (("heparin", "гепарин"), ("B01AB",)),
):
    for _name in _names:
        ALLERGY_CLASSES[_name] = _prefixes

# An allergy to one class that warns about another (cross-reactivity), shown as moderate.
CROSS_REACTIVE: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("J01C",), ("J01DB", "J01DC", "J01DD", "J01DE", "J01DH")),
    (("J01DB", "J01DC", "J01DD", "J01DE"), ("J01C",)),
    (("M01A", "N02BA"), ("M01A", "N02BA", "B01AC06")),
)


def in_group(atc: str, group: tuple[str, ...]) -> bool:
    return _in(atc, group)
