"""Every table, imported in one place so that Alembic sees the whole schema."""

from sixfold import audit
from sixfold.auth import models as auth_models
from sixfold.db import Base
from sixfold.org import imports as org_imports
from sixfold.org import models as org_models

metadata = Base.metadata

__all__ = ["audit", "auth_models", "metadata", "org_imports", "org_models"]
