"""The built-in scanners; registry.yaml decides which of them run."""

from sixfold.risk.scanners.attacks import PersonalAttackScanner
from sixfold.risk.scanners.base import BaseScanner
from sixfold.risk.scanners.confidential import ConfidentialScanner
from sixfold.risk.scanners.events import SensitiveEventScanner
from sixfold.risk.scanners.harmful import HarmfulMessageScanner
from sixfold.risk.scanners.links import HygieneScanner, LinkScanner
from sixfold.risk.scanners.personal_data import PersonalDataScanner
from sixfold.risk.scanners.profanity import ProfanityScanner
from sixfold.risk.scanners.secrets import SecretScanner
from sixfold.risk.scanners.topics import HotTopicScanner, OffBrandScanner
from sixfold.risk.scanners.tragedy import TragedyPromotionScanner

__all__ = [
    "BaseScanner",
    "ConfidentialScanner",
    "HarmfulMessageScanner",
    "HotTopicScanner",
    "HygieneScanner",
    "LinkScanner",
    "OffBrandScanner",
    "PersonalAttackScanner",
    "PersonalDataScanner",
    "ProfanityScanner",
    "SecretScanner",
    "SensitiveEventScanner",
    "TragedyPromotionScanner",
]
