"""Imports every model so that `Base.metadata` is complete (for Alembic and for mappers)."""

from kiosk import models  # noqa: F401
from kiosk.checkin import models as checkin_models  # noqa: F401
from kiosk.collect import models as collect_models  # noqa: F401
from kiosk.field import models as field_models  # noqa: F401
from kiosk.materials import models as materials_models  # noqa: F401
from kiosk.results import models as results_models  # noqa: F401
from kiosk.stations import models as stations_models  # noqa: F401
from kiosk.theory_exam import models as theory_exam_models  # noqa: F401
