"""The adapter-author kit (install ``ams[testing]``).

* :mod:`ams_core.testing.contracts` holds test classes that every adapter of a port must
  pass. Subclass one in your own test suite and provide its factory fixture::

      from ams_core.testing.contracts import UnitOfWorkContract

      class TestMyUnitOfWork(UnitOfWorkContract):
          @pytest.fixture
          def uow_factory(self):
              store = make_my_store()
              return lambda: MyUnitOfWork(store)

* :mod:`ams_core.testing.builders` seeds a small, realistic institution through the ports,
  for contract and use-case tests.

Nothing else in ``ams_core`` imports this package.
"""
