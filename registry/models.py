"""Every model module, imported by create_app so the schema (create_all, migrations) is always complete."""
from registry.accounts import models as accounts_models  # noqa: F401
from registry.certificates import models as certificates_models  # noqa: F401
from registry.certificates import reports as certificates_reports  # noqa: F401
from registry.complaints import models as complaints_models  # noqa: F401
from registry.ledger import models as ledger_models  # noqa: F401
from registry.messaging import models as messaging_models  # noqa: F401
from registry.procurement import models as procurement_models  # noqa: F401
from registry.search import outbox as search_outbox  # noqa: F401
from registry.worker import models as worker_models  # noqa: F401
