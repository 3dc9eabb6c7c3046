"""Every table, imported in one place so that Alembic sees the whole schema."""

from sixfold import audit
from sixfold.auth import models as auth_models
from sixfold.channels import models as channel_models
from sixfold.db import Base
from sixfold.guardrails import models as guardrail_models
from sixfold.network import store as network_store
from sixfold.notifications import models as notification_models
from sixfold.org import imports as org_imports
from sixfold.org import models as org_models
from sixfold.publishing import models as publishing_models
from sixfold.publishing import publisher

metadata = Base.metadata

__all__ = [
    "audit",
    "auth_models",
    "channel_models",
    "guardrail_models",
    "metadata",
    "network_store",
    "notification_models",
    "org_imports",
    "org_models",
    "publisher",
    "publishing_models",
]
