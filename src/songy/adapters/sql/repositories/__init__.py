"""One SQL repository per aggregate, each working inside a :class:`~songy.adapters.sql.unit_of_work.SqlUnitOfWork`."""
